// results.md for the sections of issues 15 and 13 item 9: `peers`, `cache`, `revocation`, `ab`,
// and the targets table of issue 15 with met/missed per row (from the same results.json).
const fmt = (value, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const verdict = (met) => (met === undefined ? 'not measured' : met ? '**met**' : '**missed**');

/** The unguarded route's app CPU per request over the case's: the ratio if the app process alone were the limit. */
const cpuRatio = (group, id) => group.cases.unguarded.cpuPerRequest / group.cases[id].cpuPerRequest;

function casesTable(group) {
  const out = [
    '| case | requests/s | p50 ms | p99 ms | ratio to unguarded (per round) | app CPU µs/request | CPU ratio |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const [id, c] of Object.entries(group.cases)) {
    out.push(
      `| ${c.label} | ${c.rps} | ${fmt(c.p50)} | ${fmt(c.p99)} | **${fmt(c.ratio)}** (${c.roundRatios.map((r) => fmt(r)).join(', ')}) | ${fmt(c.cpuPerRequest, 0)} | ${fmt(cpuRatio(group, id))} |`,
    );
  }
  return out;
}

function settingsLine(section) {
  const s = section.settings;
  return (
    `${s.connections} connections, ${s.rounds} alternating rounds of ${s.seconds} s per case after a ${s.warmup} s warm-up; ` +
    'each case is its own Nest application in its own process; medians over the rounds. "CPU ratio": our unguarded ' +
    "route's application CPU per request over the case's (the throughput ratio if the application process alone " +
    'were the bottleneck; far less sensitive to the other load on the machine than requests/s).'
  );
}

function profilesMarkdown(name, profiles) {
  if (!profiles) return [];
  const out = ['', `CPU profiles, ${name} (\`node --cpu-prof\`, one extra run per case; % of non-idle samples):`, ''];
  for (const [id, p] of Object.entries(profiles)) {
    out.push(`**${id}** (${p.rpsWhileProfiled} requests/s while profiled, ${p.samples} samples, \`${p.file}\`)`, '');
    out.push(`By package (self time): ${p.packages.map((x) => `${x.frame} ${x.percent}%`).join(', ')}`, '');
    out.push('| self % | frame |', '| ---: | --- |');
    for (const f of p.top.slice(0, 10)) out.push(`| ${f.percent} | \`${f.frame}\` |`);
    out.push('');
  }
  return out;
}

export function peersMarkdown(section) {
  const v = section.versions;
  const out = [
    `better-auth ${v['better-auth']} through @thallesp/nestjs-better-auth ${v['@thallesp/nestjs-better-auth']} (Express, ` +
      "its AuthGuard per route with the global guard off, better-auth's tables in the same SQLite file / " +
      'PostgreSQL database as ours), our SessionGuard (`database` strategy) and passport-jwt. ' +
      settingsLine(section),
  ];
  for (const [db, group] of Object.entries(section.groups)) {
    const c = group.comparisons;
    out.push('', `### ${db}`, '', ...casesTable(group), '');
    out.push(
      `Load average ${group.loadAverage.min}–${group.loadAverage.max}. Medians of per-round ratios: ours (cache off) / ` +
        `better-auth ${fmt(c.oursVsBetterAuth)}×, / better-auth with cookie cache ${fmt(c.oursVsBetterAuthCookieCache)}×; ` +
        `ours (cache on) / better-auth ${fmt(c.oursCacheVsBetterAuth)}×, / with cookie cache ${fmt(c.oursCacheVsBetterAuthCookieCache)}×; ` +
        `better-auth's guarded route keeps ${fmt(c.betterAuthVsItsUnguarded)} of its own unguarded route ` +
        `(${fmt(c.betterAuthCookieCacheVsItsUnguarded)} with the cookie cache).`,
    );
    if (group.revokedServed) {
      const r = group.revokedServed;
      out.push(
        '',
        `After deleting the better-auth session row: ${r['better-auth'].served}/${r['better-auth'].requestsAfterRevoke} ` +
          `requests still served without the cookie cache, ${r['better-auth-cookie-cache'].served}/` +
          `${r['better-auth-cookie-cache'].requestsAfterRevoke} with it (it trusts the signed cookie until maxAge).`,
      );
    }
    out.push(...profilesMarkdown(`peers ${db}`, group.profiles));
  }
  return out;
}

export function cacheMarkdown(section) {
  const out = [`SessionGuard (\`database\` strategy) with \`session.cache\` off and on. ${settingsLine(section)}`];
  for (const [name, group] of Object.entries(section.groups)) {
    const s = group.cacheStats;
    out.push('', `### ${group.db}, ${group.platform}`, '', ...casesTable(group), '');
    out.push(
      `Load average ${group.loadAverage.min}–${group.loadAverage.max}. Cache hit rate of the cache-on process over its ` +
        `runs: ${fmt(100 * s.hitRate, 3)} % (${s.hits} hits, ${s.misses} misses; one session driven by every connection).`,
    );
    out.push(...profilesMarkdown(name, group.profiles));
  }
  return out;
}

export function cacheMemoryMarkdown(m) {
  return [
    `One process with \`--expose-gc\`, SQLite, \`session.cache: { max: ${m.max.toLocaleString('en-US')} }\`, ` +
      `${m.distinctSessionsLookedUp.toLocaleString('en-US')} distinct sessions of ${m.users} users looked up through ` +
      '`SessionService.getSession`; V8 heap used after three full GCs.',
    '',
    '| moment | cached entries | heap MiB |',
    '| --- | ---: | ---: |',
    `| cache empty | 0 | ${m.heapMiB.empty} |`,
    `| ${m.size.full.toLocaleString('en-US')} distinct sessions cached | ${m.size.full.toLocaleString('en-US')} | ${m.heapMiB.full} |`,
    `| ${(m.distinctSessionsLookedUp - m.max).toLocaleString('en-US')} more distinct sessions looked up | ${m.size.afterMore.toLocaleString('en-US')} | ${m.heapMiB.afterMore} |`,
    `| after \`clear()\` | 0 | ${m.heapMiB.cleared} |`,
    '',
    `**${m.per100kMiB} MiB per 100,000 cached sessions** (${m.bytesPerSession} bytes per entry: the user and session ` +
      'entities, the LRU node and the session and user indexes).',
  ];
}

export function revocationMarkdown(section) {
  const out = [
    'Two application processes (A, B) on one PostgreSQL database, `session.cache` on, `database` strategy. Per ' +
      'revocation: a new session, read twice on each instance (cached on both), `revokeSession` on A, while one ' +
      'sequential poller per instance keeps requesting. Delay = the first 401 answered by B minus the moment ' +
      "`revokeSession` returned inside A (A's clock mapped onto the poller's through an IPC round-trip offset); " +
      "it includes one poll's latency, so it is an upper bound; negative when B refused first. The last column " +
      'is the same figure taken when the refused request was sent (B had the invalidation by the time it read it).',
    '',
    '| channel | revocations | p50 ms | p90 ms | p99 ms | max ms | A: requests after revoke returned / served | B: served after its first 401 | refused request sent: p50 / p99 / max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  ];
  const names = { redis: 'PostgreSQL + Redis pub/sub', postgres: 'PostgreSQL LISTEN/NOTIFY alone' };
  for (const [channel, r] of Object.entries(section.channels)) {
    out.push(
      `| ${names[channel]} | ${r.revocations} | ${fmt(r.delayMs.p50)} | ${fmt(r.delayMs.p90)} | ${fmt(r.delayMs.p99)} | ` +
        `${fmt(r.delayMs.max)} | ${r.sameInstance.requestsAfterRevoke} / **${r.sameInstance.served}** | ${r.otherInstance.servedAfterFirstRefusal} | ` +
        (r.refusedRequestSentMs
          ? `${fmt(r.refusedRequestSentMs.p50)} / ${fmt(r.refusedRequestSentMs.p99)} / ${fmt(r.refusedRequestSentMs.max)} |`
          : '– |'),
    );
  }
  return out;
}

export function abMarkdown(section) {
  const out = [
    `Current build against the whole library at \`${section.baseline.commit}\` (\`${section.baseline.dist}\`), ` +
      `cache off. ${settingsLine(section)} "No slower" = the median per-round requests/s ratio current/before ≥ ${section.tolerance} ` +
      '(the spread of two identical builds on this machine is ±0.12, see the notes).',
  ];
  for (const [db, group] of Object.entries(section.groups)) {
    out.push('', `### ${db}`, '', ...casesTable(group), '');
    out.push(`Load average ${group.loadAverage.min}–${group.loadAverage.max}.`, '');
    out.push('| strategy | requests/s current / before | app CPU µs/request current | before | no slower |');
    out.push('| --- | ---: | ---: | ---: | --- |');
    for (const [strategy, c] of Object.entries(group.comparisons)) {
      out.push(
        `| \`${strategy}\` | ${fmt(c.rpsRatio)} | ${fmt(c.cpuPerRequestNow, 0)} | ${fmt(c.cpuPerRequestBefore, 0)} | ${verdict(c.noSlower)} |`,
      );
    }
  }
  return out;
}

/** The targets table of issue 15, one row per measure and database/platform, from what this file holds. */
export function targetsMarkdown(s) {
  const out = ['| measure | target | measured | verdict |', '| --- | --- | --- | --- |'];
  const cache = s.cache;
  for (const group of Object.values(cache?.groups ?? {})) {
    const on = group.cases['cache-on'].ratio;
    out.push(
      `| guard, cache on, vs unguarded, ${group.db} ${group.platform} | ≥ 0.90 | ${fmt(on)} (CPU ratio ${fmt(cpuRatio(group, 'cache-on'))}) | ${verdict(on >= 0.9)} |`,
    );
  }
  for (const group of Object.values(cache?.groups ?? {})) {
    const off = group.cases['cache-off'].ratio;
    const target = cache.targets.off[group.db];
    out.push(
      `| guard, cache off, vs unguarded, ${group.db} ${group.platform} | ≥ ${fmt(target)} | ${fmt(off)} (CPU ratio ${fmt(cpuRatio(group, 'cache-off'))}) | ${verdict(off >= target)} |`,
    );
  }
  for (const [db, group] of Object.entries(s.peers?.groups ?? {})) {
    const c = group.comparisons;
    const cpu = (a, b) => fmt(group.cases[b].cpuPerRequest / group.cases[a].cpuPerRequest);
    out.push(
      `| ours vs better-auth, ${db} (cache off; cache on in brackets) | ≥ 2.5× | ${fmt(c.oursVsBetterAuth)}× (${fmt(c.oursCacheVsBetterAuth)}×); by app CPU per request ${cpu('ours', 'better-auth')}× (${cpu('ours-cache', 'better-auth')}×) | ${verdict(c.oursVsBetterAuth >= 2.5)} |`,
      `| ours vs better-auth with cookie cache, ${db} (cache off; cache on in brackets) | ≥ 1.5× | ${fmt(c.oursVsBetterAuthCookieCache)}× (${fmt(c.oursCacheVsBetterAuthCookieCache)}×); by app CPU per request ${cpu('ours', 'better-auth-cookie-cache')}× (${cpu('ours-cache', 'better-auth-cookie-cache')}×) | ${verdict(c.oursVsBetterAuthCookieCache >= 1.5)} |`,
    );
  }
  for (const [channel, r] of Object.entries(s.revocation?.channels ?? {})) {
    out.push(
      `| revocation seen by the other instance, ${channel} | p99 ≤ 50 ms, max ≤ 250 ms | p99 ${fmt(r.delayMs.p99)} ms, max ${fmt(r.delayMs.max)} ms | ${verdict(r.delayMs.p99 <= 50 && r.delayMs.max <= 250)} |`,
      `| served with a revoked session after revoke returned, same instance, ${channel} | 0 | ${r.sameInstance.served} of ${r.sameInstance.requestsAfterRevoke} | ${verdict(r.sameInstance.served === 0)} |`,
    );
  }
  const m = s['cache-memory'];
  if (m) {
    // Unbounded, the extra distinct sessions would add their share of the full cache's heap again.
    const unboundedGrowth = ((m.distinctSessionsLookedUp - m.max) / m.max) * (m.heapMiB.full - m.heapMiB.empty);
    const growth = m.heapMiB.afterMore - m.heapMiB.full;
    const bounded = m.size.afterMore <= m.max && growth < 0.25 * unboundedGrowth;
    out.push(
      `| memory bounded by the LRU size; per 100,000 cached sessions | bounded, figure reported | ${m.size.afterMore.toLocaleString('en-US')} entries after ${m.distinctSessionsLookedUp.toLocaleString('en-US')} distinct sessions, heap ${m.heapMiB.full} → ${m.heapMiB.afterMore} MiB (+${unboundedGrowth.toFixed(0)} MiB if unbounded); ${m.per100kMiB} MiB per 100,000 | ${verdict(bounded)} |`,
    );
  }
  return out;
}
