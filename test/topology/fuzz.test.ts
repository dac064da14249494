// Fuzzing the loader with mutated profiles: whatever an operator (or an editor accident) feeds
// it, loadTopology returns positioned diagnostics and never throws.
//
// Deterministic: a seeded PRNG (never Math.random), so a failure reproduces. On failure the
// message names the seed and the case and prints the mutated text. To rerun one case:
//   FUZZ_SEED=<seed> FUZZ_CASE=<text|value>:<n> node --test dist/test/topology/fuzz.test.js
// FUZZ_SEED=<n> alone explores other inputs; FUZZ_SCALE=10 runs ten times as many cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { formatDiagnostics } from '../../src/diagnostics/print.js';
import { loadTopology, readTopology, type LoadResult } from '../../src/topology/load.js';
import { CNIS, OS_PROFILES, ROLES } from '../../src/topology/schema.js';
import { fromRoot } from '../helpers/paths.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x6b75be);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const ONLY = process.env.FUZZ_CASE;
const TEXT_CASES = Math.round(2000 * SCALE);
const VALUE_CASES = Math.round(1200 * SCALE);

const PROFILES = readdirSync(fromRoot('profiles'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(fromRoot('profiles', f), 'utf8') }));

// --- a small seeded PRNG (mulberry32) ------------------------------------------------------------
class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}
/** Every case gets its own stream, so one case reruns alone with the same input. */
const caseRng = (kind: 'text' | 'value', n: number): Rng => new Rng(SEED ^ Math.imul(n + 1, 0x9e3779b1) ^ (kind === 'text' ? 0 : 0x5bd1e995));

// --- text-level mutations ------------------------------------------------------------------------
const PALETTE = [':', ': ', '-', '- ', '{', '}', '[', ']', '&', '&a ', '*', '*a', '!', '!!str ', '!!binary ', '\t', '"', "'", '#', '|', '>', ',', '?', '%', '@', '`', ' ', '  ', '\n', '\r\n', '\\', '\u0000', '\uFEFF', 'é', '\u{1F4A5}', '0', '9', 'a', 'Z', '---', '...', '<<: '];

const TEXT_MUTATIONS: Record<string, (t: string, r: Rng) => string> = {
  deleteLine: (t, r) => {
    const ls = t.split('\n');
    ls.splice(r.int(ls.length), 1);
    return ls.join('\n');
  },
  duplicateLine: (t, r) => {
    const ls = t.split('\n');
    const i = r.int(ls.length);
    ls.splice(i, 0, ls[i]!);
    return ls.join('\n');
  },
  swapLines: (t, r) => {
    const ls = t.split('\n');
    const i = r.int(ls.length);
    const j = r.chance(0.5) ? Math.min(ls.length - 1, i + 1) : r.int(ls.length);
    [ls[i], ls[j]] = [ls[j]!, ls[i]!];
    return ls.join('\n');
  },
  moveBlock: (t, r) => {
    const ls = t.split('\n');
    const i = r.int(ls.length);
    const block = ls.splice(i, r.range(1, 6));
    ls.splice(r.int(ls.length + 1), 0, ...block);
    return ls.join('\n');
  },
  insertChars: (t, r) => {
    const at = r.int(t.length + 1);
    let ins = '';
    for (let n = r.range(1, 4); n > 0; n--) ins += r.pick(PALETTE);
    return t.slice(0, at) + ins + t.slice(at);
  },
  deleteChars: (t, r) => {
    const at = r.int(t.length + 1);
    return t.slice(0, at) + t.slice(at + r.range(1, 12));
  },
  replaceChar: (t, r) => {
    const at = r.int(t.length);
    return t.slice(0, at) + r.pick(PALETTE) + t.slice(at + 1);
  },
  reindent: (t, r) => {
    const ls = t.split('\n');
    const i = r.int(ls.length);
    const line = ls[i]!;
    const body = line.trimStart();
    const indent = line.length - body.length;
    const choice = r.int(4);
    ls[i] =
      choice === 0
        ? ' '.repeat(indent + r.range(1, 4)) + body
        : choice === 1
          ? ' '.repeat(Math.max(0, indent - r.range(1, 4))) + body
          : choice === 2
            ? '\t'.repeat(Math.max(1, indent / 2)) + body
            : body;
    return ls.join('\n');
  },
  truncate: (t, r) => t.slice(0, r.int(t.length + 1)),
  swapWords: (t, r) => {
    // Moves a value to a place meant for another: an IP where a name goes, a role in a CIDR…
    const words = t.match(/[A-Za-z0-9_.:/"-]+/g) ?? [''];
    const a = r.pick(words);
    const b = r.pick(words);
    return t.replace(a, b);
  },
  repeatText: (t, r) => {
    const at = r.int(t.length);
    const piece = t.slice(at, at + r.range(1, 40));
    return t.slice(0, at) + piece.repeat(r.range(2, 50)) + t.slice(at);
  },
  crlf: (t) => t.replace(/\n/g, '\r\n'),
};

// --- value-level mutations -----------------------------------------------------------------------
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = (string | number)[];

function randomValue(r: Rng, depth = 0): Json {
  // Big values are rare: they cost far more to print and parse than the rest.
  if (depth === 0 && r.chance(0.03)) {
    return r.chance(0.5)
      ? 'x'.repeat(r.pick([1000, 10_000, 100_000]))
      : Array.from({ length: r.range(100, 1200) }, (_, i) => ({ name: `h${i}`, role: 'worker', ip: `10.20.${i >> 8}.${i & 255}` }));
  }
  switch (r.int(depth > 3 ? 14 : 16)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1, 6443, 29999, 30000, 32767, 32768, 65535, 65536, 2 ** 31, 2 ** 53 + 2, 1e300, -1e300, 0.5, 1.3, 1.37]);
    case 3: return r.int(1e9) - 5e8;
    case 4: return r.pick(['', ' ', 'null', 'true', '~', 'yes', 'no', 'on', '0x1F', '1e3', '.inf', '.nan', '1.37', '1.37.2', '1.29.0', '1.40.0', '1.36', 'v1.2.3']);
    case 5: return r.pick(['$(reboot)', '; rm -rf /', '`id`', '../../etc/passwd', 'a\nb', 'a\u0000b', '\u202Eevil', 'é', 'Worker1', 'worker_1', '-lead', 'trail-', 'x'.repeat(64)]);
    case 6: return 'x'.repeat(r.pick([63, 64, 100, 254]));
    case 7: return `${r.int(300)}.${r.int(300)}.${r.int(300)}.${r.int(300)}`;
    case 8: return `${r.pick([10, 172, 192, 0, 255])}.${r.int(256)}.${r.int(256)}.${r.int(256)}/${r.int(34)}`;
    case 9: return r.pick([...ROLES, ...OS_PROFILES, ...CNIS, 'master', 'ubuntu-18.04', 'canal', 'workers', 'control-planes', 'NoSchedule', 'etcd-quorum', 'baked', 'first-boot', 'qemu', 'raw']);
    case 10: return Array.from({ length: r.int(10) }, (_, i) => r.pick(['52:54:00:00:00:0', 'ssh-ed25519 AAAA', 'cp', 'lb', 'worker']) + String(i));
    case 11: return { address: `10.20.0.${r.int(300)}`, routerId: r.int(300) };
    case 12: return { name: r.pick(['cp1', 'lb1', 'worker1', 'x']), role: r.pick(ROLES), ip: `10.${r.int(40)}.0.${r.int(256)}` };
    case 13: {
      // Deep, but within what the loader parses (it refuses deeper than 64 levels).
      let v: Json = r.pick([1, 'x', null]);
      for (let n = r.range(2, r.chance(0.1) ? 80 : 30); n > 0; n--) v = r.chance(0.5) ? [v] : { k: v };
      return v;
    }
    case 14: return Array.from({ length: r.int(5) }, () => randomValue(r, depth + 1));
    default: return Object.fromEntries(Array.from({ length: r.int(5) }, (_, i) => [r.pick(['name', 'ip', 'role', 'x', 'port', `k${i}`]), randomValue(r, depth + 1)]));
  }
}

const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;
const CIDR = /^\d+\.\d+\.\d+\.\d+\/\d+$/;
const octet = (r: Rng): number => r.pick([0, 1, 2, 10, 20, 47, 96, 100, 168, 192, 244, 254, 255, r.int(256)]);
/**
 * A value of the same kind that still passes the schema (an address for an address, a role for
 * a role…), so the case reaches the cross-field rules: overlaps, duplicates, quorum, ranges.
 */
function plausible(v: Json, r: Rng): Json {
  if (typeof v === 'number') return r.pick([1, 2, 4, 12, 20, 30, 255, 443, 6443, 29999, 30000, 30080, 32767, 32768, 65535, v + 1, v - 1]);
  if (typeof v !== 'string') return v;
  if (CIDR.test(v)) return `${r.pick([10, 172, 192])}.${octet(r)}.${octet(r)}.${octet(r)}/${r.pick([0, 1, 8, 12, 16, 20, 23, 24, 25, 26, 28, 30, 31, 32])}`;
  if (IPV4.test(v)) return r.chance(0.5) ? v.replace(/\d+$/, String(octet(r))) : `${r.pick([10, 172, 192])}.${octet(r)}.${octet(r)}.${octet(r)}`;
  const enums = [ROLES, OS_PROFILES, CNIS, ['workers', 'control-planes']].find((e) => (e as readonly string[]).includes(v));
  if (enums) return r.pick(enums);
  if (/^1\.\d+\.\d+$/.test(v)) return `1.${r.range(28, 41)}.${r.int(10)}`;
  if (/^1\.\d+$/.test(v)) return `1.${r.range(28, 41)}`;
  if (/^[a-z0-9-]+$/.test(v)) return r.pick(['cp1', 'cp2', 'worker1', 'lb1', 'lb2', 'haproxy', 'k8s-master1', v]);
  return v;
}

function paths(v: Json, at: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([...at, i]), paths(x, [...at, i], out)));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([...at, k]), paths(v[k]!, [...at, k], out);
  return out;
}

function parentOf(root: Json, path: Path): Json {
  let v = root;
  for (const p of path.slice(0, -1)) v = (v as Record<string | number, Json>)[p]!;
  return v;
}

const VALUE_MUTATIONS: Record<string, (root: Json, path: Path, r: Rng) => void> = {
  plausible: (root, path, r) => {
    const parent = parentOf(root, path) as Record<string | number, Json>;
    parent[path.at(-1)!] = plausible(parent[path.at(-1)!]!, r);
  },
  replace: (root, path, r) => void ((parentOf(root, path) as Record<string | number, Json>)[path.at(-1)!] = randomValue(r)),
  remove: (root, path) => {
    const parent = parentOf(root, path);
    if (Array.isArray(parent)) parent.splice(path.at(-1) as number, 1);
    else delete (parent as Record<string, Json>)[path.at(-1) as string];
  },
  duplicate: (root, path) => {
    // Two hosts (or frontends) with the same name, IP and MAC.
    const parent = parentOf(root, path);
    if (Array.isArray(parent)) parent.push(structuredClone(parent[path.at(-1) as number]!));
  },
  addKey: (root, path, r) => {
    const parent = parentOf(root, path);
    // An own property even for __proto__, so the printed YAML carries it (prototype pollution).
    const key = r.pick(['extra', 'nodes', 'hostname', 'toString', '__proto__', 'constructor', 'a/b', '~0', '<<']);
    if (parent && typeof parent === 'object' && !Array.isArray(parent)) Object.defineProperty(parent, key, { value: randomValue(r), enumerable: true, writable: true, configurable: true });
  },
  renameKey: (root, path, r) => {
    const parent = parentOf(root, path);
    const key = path.at(-1);
    if (parent && typeof parent === 'object' && !Array.isArray(parent) && typeof key === 'string') {
      const v = parent[key]!;
      delete parent[key];
      const typo = r.chance(0.5) ? key.slice(0, -1) : key.toUpperCase();
      parent[typo || 'x'] = v;
    }
  },
  swap: (root, path, r) => {
    const all = paths(root);
    const other = r.pick(all);
    if (other.length === 0 || path.every((p, i) => other[i] === p) || other.every((p, i) => path[i] === p)) return; // not an ancestor swap
    const [pa, pb] = [parentOf(root, path) as Record<string | number, Json>, parentOf(root, other) as Record<string | number, Json>];
    [pa[path.at(-1)!], pb[other.at(-1)!]] = [pb[other.at(-1)!]!, pa[path.at(-1)!]!];
  },
};

// --- the invariants --------------------------------------------------------------------------------
/** What the cases produced, by diagnostic code ("valid" when a topology came back): shows the fuzzer reaches the rules. */
type Stats = Map<string, number>;
const count = (stats: Stats, key: string): void => void stats.set(key, (stats.get(key) ?? 0) + 1);
const summary = (stats: Stats): string =>
  [...stats].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');

/** Returns what is wrong with loading `text`, or undefined when every invariant holds. */
function violation(text: string, stats?: Stats): string | undefined {
  let result: LoadResult;
  try {
    result = loadTopology(text, 'fuzz.yaml');
  } catch (e) {
    return `loadTopology threw: ${(e as Error).stack ?? e}`;
  }
  if (Object.keys(Object.prototype).length) return `Object.prototype was polluted: ${Object.keys(Object.prototype).join(', ')}`;
  if (stats) {
    count(stats, result.topology ? 'valid' : 'invalid');
    for (const code of new Set(result.diagnostics.map((d) => d.code))) count(stats, code);
  }
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (result.topology !== undefined && errors.length > 0) return 'a topology was returned together with errors';
  if (result.topology === undefined && errors.length === 0) return 'no topology, but no error says why';
  const lines = text.split(/\r?\n/); // as print.ts shows them
  for (const d of result.diagnostics) {
    const where = JSON.stringify(d);
    if (d.severity !== 'error' && d.severity !== 'warning') return `bad severity: ${where}`;
    if (d.file !== 'fuzz.yaml') return `diagnostic without the file: ${where}`;
    if (!Number.isInteger(d.line) || d.line! < 1) return `diagnostic without a line: ${where}`;
    if (!Number.isInteger(d.col) || d.col! < 1) return `diagnostic without a column: ${where}`;
    if (d.line! > lines.length) return `diagnostic past the last line (${lines.length}): ${where}`;
    if (d.col! > lines[d.line! - 1]!.length + 1) return `diagnostic past the end of its line: ${where}`;
    if (typeof d.message !== 'string' || d.message.trim() === '') return `diagnostic without a message: ${where}`;
    if (typeof d.code !== 'string' || d.code === '') return `diagnostic without a code: ${where}`;
    if (!Array.isArray(d.path)) return `diagnostic without a path array: ${where}`;
  }
  try {
    formatDiagnostics(result.diagnostics, text);
  } catch (e) {
    return `formatDiagnostics threw: ${(e as Error).stack ?? e}`;
  }
  return undefined;
}

function report(kind: string, n: number, what: string[], text: string, problem: string): string {
  const shown = text.length > 20_000 ? `${text.slice(0, 20_000)}\n… (${text.length} characters in all)` : text;
  return [
    `fuzz case ${kind}:${n} failed: ${problem}`,
    `  seed ${SEED}; rerun with FUZZ_SEED=${SEED} FUZZ_CASE=${kind}:${n}`,
    `  mutations: ${what.join(', ')}`,
    '  mutated text (JSON-escaped):',
    JSON.stringify(shown),
  ].join('\n');
}

const selected = (kind: string, n: number): boolean => ONLY === undefined || ONLY === `${kind}:${n}`;

test(`fuzz: ${TEXT_CASES} text-level mutations of the profiles never break the loader (seed ${SEED})`, (t) => {
  const stats: Stats = new Map();
  const names = Object.keys(TEXT_MUTATIONS);
  for (let n = 0; n < TEXT_CASES; n++) {
    if (!selected('text', n)) continue;
    const r = caseRng('text', n);
    const base = r.pick(PROFILES);
    let text = base.text;
    const what = [base.name];
    for (let k = r.range(1, 4); k > 0; k--) {
      const m = r.pick(names);
      what.push(m);
      text = TEXT_MUTATIONS[m]!(text, r);
    }
    const problem = violation(text, stats);
    if (problem) assert.fail(report('text', n, what, text, problem));
  }
  t.diagnostic(`outcomes: ${summary(stats)}`);
});

test(`fuzz: ${VALUE_CASES} value-level mutations of the profiles never break the loader (seed ${SEED})`, (t) => {
  const stats: Stats = new Map();
  // Half the mutations keep the shape valid, so the rules after the schema get exercised too.
  const names = [...Object.keys(VALUE_MUTATIONS), ...Array<string>(Object.keys(VALUE_MUTATIONS).length).fill('plausible')];
  const parsed = PROFILES.map((p) => ({ name: p.name, value: parse(p.text) as Json }));
  for (let n = 0; n < VALUE_CASES; n++) {
    if (!selected('value', n)) continue;
    const r = caseRng('value', n);
    const base = r.pick(parsed);
    const root = structuredClone(base.value);
    const what = [base.name];
    for (let k = r.range(1, 3); k > 0; k--) {
      const all = paths(root);
      if (all.length === 0) break;
      const path = r.pick(all);
      const m = r.pick(names);
      what.push(`${m} ${JSON.stringify(path)}`);
      VALUE_MUTATIONS[m]!(root, path, r);
    }
    // Mostly block YAML; sometimes flow style or JSON (also YAML), as editors and tools write it.
    const style = r.int(4);
    const text = style === 0 ? JSON.stringify(root, null, 2) : stringify(root, style === 1 ? { collectionStyle: 'flow' } : { lineWidth: 0 });
    const problem = violation(text, stats);
    if (problem) assert.fail(report('value', n, what, text, problem));
  }
  t.diagnostic(`outcomes: ${summary(stats)}`);
});

// --- hostile sizes -------------------------------------------------------------------------------
test('a 2 MB topology gives a diagnostic, from text and from a file', { timeout: 20_000 }, async () => {
  const big = PROFILES[0]!.text + `# ${'x'.repeat(120)}\n`.repeat(17_000);
  assert.ok(big.length > 2_000_000);
  const fromText = loadTopology(big, 'big.yaml');
  assert.equal(fromText.topology, undefined);
  assert.equal(fromText.diagnostics[0]?.code, 'io.too-large');
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-fuzz-'));
  try {
    writeFileSync(join(dir, 'big.yaml'), big);
    const fromFile = await readTopology(join(dir, 'big.yaml'));
    assert.equal(fromFile.topology, undefined);
    assert.equal(fromFile.diagnostics[0]?.code, 'io.too-large');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('documents nested 100k deep give a diagnostic, not a stack overflow or a hang', { timeout: 20_000 }, () => {
  const deep = {
    'open brackets': '['.repeat(100_000),
    'balanced brackets': '['.repeat(100_000) + ']'.repeat(100_000),
    'a deep value': 'apiVersion: kubebake/v1alpha1\nhosts: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n',
    'flow mappings': '{a: '.repeat(100_000) + '}'.repeat(100_000),
    'block sequences': '- '.repeat(100_000) + 'x\n',
  };
  // Brackets twice: a second stack overflow in one process used to abort V8 itself ("RegExpCompiler
  // Allocation failed"), which no try/catch can stop.
  for (const [name, text] of [...Object.entries(deep), ['balanced brackets again', deep['balanced brackets']] as const]) {
    const started = performance.now();
    const stats: Stats = new Map();
    const problem = violation(text, stats);
    assert.equal(problem, undefined, `${name}: ${problem}`);
    assert.equal(stats.get('invalid'), 1, `${name}: expected an error`);
    assert.equal(stats.get('yaml.unparsable'), 1, `${name}: expected the nesting error, got ${summary(stats)}`);
    assert.ok(performance.now() - started < 5_000, `${name} took ${performance.now() - started} ms`);
  }
});
