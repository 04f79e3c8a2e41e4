// Section `revocation`: two application processes A and B on one PostgreSQL database, both with
// session.cache on, invalidating through Redis pub/sub, then through PostgreSQL LISTEN/NOTIFY
// alone. For each of BENCH_REVOCATIONS (1,000) sessions: A and B both serve it from their caches,
// A revokes it, and two sequential pollers (one per instance) keep asking until they see 401.
// - delay on B: first 401 answered by B minus the moment `revokeSession` returned inside A
//   (A's clock, converted to this process's clock with an offset measured over IPC);
// - on A: every request sent after `revokeSession` returned must be refused; the 200s are counted.
import { performance } from 'node:perf_hooks';
import { dropPostgres, freshPostgres } from './db.mjs';
import { latencySummary, round } from './load.mjs';
import { startServer } from './servers.mjs';

const now = () => performance.timeOrigin + performance.now();
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A's clock minus ours, from the IPC round trip with the smallest span (NTP-style midpoint). */
async function clockOffset(server) {
  let best = { span: Infinity, offset: 0 };
  for (let i = 0; i < 50; i++) {
    const sent = now();
    const { now: theirs } = await server.call('clock');
    const received = now();
    if (received - sent < best.span) best = { span: received - sent, offset: theirs - (sent + received) / 2 };
  }
  return best;
}

async function status(url, cookie) {
  const response = await fetch(url, { headers: { cookie } });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Polls `url` one request at a time until `stop()` says so. Each response is recorded with the
 * moment its request was sent and the moment it arrived.
 */
function poll(url, cookie, until) {
  const seen = [];
  const done = (async () => {
    while (!until(seen)) {
      const sent = now();
      const code = await status(url, cookie);
      seen.push({ sent, received: now(), status: code });
    }
    return seen;
  })();
  return done;
}

async function oneRevocation(a, b, offsetA) {
  const { cookie, sessionId } = await a.call('newSession');
  // Both instances cache it: first read stores, second is a hit.
  for (const server of [a, b, a, b]) {
    if ((await status(server.url('/session'), cookie)) !== 200) throw new Error('a fresh session was refused');
  }
  let revokedAt = Infinity;
  const started = now();
  const settledA = (seen) => seen.filter((r) => r.sent > revokedAt).length >= 3;
  // B: two more requests after its first refusal (to see it stay refused), or give up after 5 s.
  const settledB = (seen) => {
    const first = seen.find((r) => r.status === 401);
    return (first && seen.filter((r) => r.sent > first.received).length >= 2) || now() - started > 5000;
  };
  const pollB = poll(b.url('/session'), cookie, settledB);
  const pollA = poll(a.url('/session'), cookie, settledA);
  const reply = await a.call('revoke', { sessionId });
  revokedAt = reply.at - offsetA;
  const [onB, onA] = await Promise.all([pollB, pollA]);
  const firstRefusal = onB.find((r) => r.status === 401) ?? { received: Infinity };
  const afterOnA = onA.filter((r) => r.sent > revokedAt);
  const afterFirstRefusalOnB = onB.filter((r) => r.sent > firstRefusal.received);
  return {
    // Negative when B refused before A's call returned (the row was gone, the message arrived early).
    delayMs: firstRefusal.received - revokedAt,
    // When the refused request left the poller: B learnt of the revocation before it answered it.
    sentMs: (firstRefusal.sent ?? Infinity) - revokedAt,
    servedOnA: afterOnA.filter((r) => r.status === 200).length,
    requestsOnA: afterOnA.length,
    servedOnBAfterRefusal: afterFirstRefusalOnB.filter((r) => r.status === 200).length,
    unexpected: [...onA, ...onB].filter((r) => r.status !== 200 && r.status !== 401).length,
  };
}

async function measureChannel(channel, dbUrl, count, log) {
  const env = { BENCH_CACHE: 'on', BENCH_CACHE_REDIS: channel === 'redis' ? REDIS_URL : '' };
  const a = await startServer({ db: 'postgres', dbUrl, strategy: 'database', env });
  const b = await startServer({ db: 'postgres', dbUrl, strategy: 'database', env });
  try {
    const clock = await clockOffset(a);
    const results = [];
    for (let i = 0; i < count; i++) {
      results.push(await oneRevocation(a, b, clock.offset));
      if ((i + 1) % 250 === 0) log(`  ${channel}: ${i + 1}/${count}`);
    }
    const delays = results.map((r) => r.delayMs);
    const summary = latencySummary(delays);
    const sent = latencySummary(results.map((r) => r.sentMs));
    const statsB = (await b.call('cacheStats')).stats;
    const sum = (key) => results.reduce((total, r) => total + r[key], 0);
    return {
      revocations: count,
      delayMs: {
        p50: round(summary.p50, 2),
        p90: round(summary.p90, 2),
        p99: round(summary.p99, 2),
        max: round(summary.max, 2),
        min: round(Math.min(...delays), 2),
      },
      refusedRequestSentMs: { p50: round(sent.p50, 2), p99: round(sent.p99, 2), max: round(sent.max, 2) },
      clockOffsetUncertaintyMs: round(clock.span / 2, 3),
      sameInstance: { requestsAfterRevoke: sum('requestsOnA'), served: sum('servedOnA') },
      otherInstance: { servedAfterFirstRefusal: sum('servedOnBAfterRefusal') },
      unexpectedStatuses: sum('unexpected'),
      cacheStatsB: statsB,
    };
  } finally {
    await a.stop();
    await b.stop();
  }
}

export async function revocationSection(config, log) {
  const count = Number(process.env.BENCH_REVOCATIONS ?? 1000);
  const channels = {};
  for (const channel of ['redis', 'postgres']) {
    log(`revocation: PostgreSQL + ${channel === 'redis' ? 'Redis pub/sub' : 'LISTEN/NOTIFY alone'}`);
    const dbUrl = await freshPostgres('arraf_bench_revocation');
    channels[channel] = await measureChannel(channel, dbUrl, count, log);
  }
  await dropPostgres('arraf_bench_revocation');
  return { targets: { p99Ms: 50, maxMs: 250, servedOnSameInstance: 0 }, redisUrl: REDIS_URL, channels };
}
