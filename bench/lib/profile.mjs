// Reads a V8 .cpuprofile (node --cpu-prof) and lists where the time went: the top frames by self
// time and by inclusive time, and self time grouped by package.
import { readFileSync } from 'node:fs';

const ROOT = process.cwd();

function shortUrl(url) {
  if (!url) return '';
  let path = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (path.startsWith(ROOT)) path = path.slice(ROOT.length + 1);
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) path = path.slice(nm + 'node_modules/'.length);
  return path;
}

/** `express`, `@nestjs/core`, `node:internal`, `library (dist)`, `(garbage collector)`, ... */
function packageOf(frame) {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (path.startsWith(`${ROOT}/dist/`)) return '@arraf-auth/nestjs (dist)';
  if (path.startsWith(`${ROOT}/bench/`)) return 'bench app';
  return shortUrl(url);
}

function frameKey(frame) {
  const name = frame.functionName || '(anonymous)';
  return frame.url ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

/** Summarises one profile: `top` frames by self time, `inclusive` by total time, and `packages`. */
export function summariseProfile(file, top = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const idle = (node) => node.callFrame.functionName === '(idle)';
  let total = 0;
  for (const [id, count] of hits) if (!idle(byId.get(id))) total += count;

  const self = new Map();
  const packages = new Map();
  for (const [id, count] of hits) {
    const node = byId.get(id);
    if (idle(node)) continue;
    const key = frameKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + count);
    const pkg = packageOf(node.callFrame);
    packages.set(pkg, (packages.get(pkg) ?? 0) + count);
  }

  // Inclusive time: a frame counts once per sample even when it recurses.
  const inclusive = new Map();
  const stack = [];
  const walk = (node) => {
    const key = frameKey(node.callFrame);
    const first = !stack.includes(key);
    stack.push(key);
    let sum = idle(node) ? 0 : (hits.get(node.id) ?? 0);
    for (const child of node.children ?? []) sum += walk(byId.get(child));
    stack.pop();
    if (first) inclusive.set(key, (inclusive.get(key) ?? 0) + sum);
    return sum;
  };
  walk(profile.nodes[0]);

  const pct = (count) => Math.round((1000 * count) / total) / 10;
  const list = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, count]) => ({ frame, percent: pct(count) }));
  return {
    samples: total,
    top: list(self, top),
    inclusive: list(inclusive, top + 10).filter((f) => f.frame !== '(root)'),
    packages: list(packages, 15),
  };
}
