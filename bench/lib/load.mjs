// Load generation with autocannon's programmatic API, in this (the parent) process, against an
// application running in a child process. Latencies are recorded from autocannon's per-response
// event at sub-millisecond precision (its own histogram rounds to whole milliseconds).
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Summary of a list of latencies in milliseconds. */
export function latencySummary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/**
 * Drives `url` with autocannon for `seconds` (or until `amount` requests, or until `stop()` is
 * called) and returns requests/s of successful responses, latency percentiles in ms, per-second
 * buckets and error counts. `expectStatus` responses are the successes.
 */
export function drive({ url, headers = {}, seconds = 5, amount, connections = 10, expectStatus = 200 }) {
  const latencies = [];
  const perSecond = [];
  let other = 0;
  const started = performance.now();
  const instance = autocannon({
    url,
    headers,
    connections,
    pipelining: 1,
    ...(amount ? { amount } : { duration: seconds }),
    timeout: 30,
  });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    const second = Math.floor((performance.now() - started) / 1000);
    const bucket = (perSecond[second] ??= { second, responses: 0, max: 0 });
    bucket.responses++;
    if (responseTime > bucket.max) bucket.max = responseTime;
    if (statusCode === expectStatus) latencies.push(responseTime);
    else other++;
  });
  const done = instance.then((result) => {
    const elapsed = (performance.now() - started) / 1000;
    const summary = latencySummary(latencies);
    return {
      rps: latencies.length / elapsed,
      seconds: elapsed,
      ...summary,
      unexpectedStatus: other,
      errors: result.errors,
      timeouts: result.timeouts,
      perSecond: perSecond.filter(Boolean).map((b) => ({ ...b, max: round(b.max, 2) })),
    };
  });
  return { done, stop: () => instance.stop() };
}

export function round(value, digits = 2) {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
