// `npm run bench`: speed and memory goals, measured on a large cluster (5 control planes, 990
// workers, 2 load balancers sharing a VIP). Fails (exit 1) when a goal is missed, so a slow
// change shows up here rather than as a flaky timed unit test.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { loadTopology } from '../src/topology/load.js';
import { buildPlan, withSecrets } from '../src/plan/plan.js';
import { loadOrCreateSecrets } from '../src/plan/secrets.js';
import { renderCloudInitTree } from '../src/render/cloud-init/cluster.js';
import { renderPackerTree } from '../src/render/packer/tree.js';
import { writeTree } from '../src/output/write.js';
import { FileTree, type OutputFile } from '../src/output/tree.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The same bytes written plainly (mkdir once per folder, writeFileSync per file): the baseline. */
function timeRaw(root: string, files: OutputFile[]): number {
  const t = performance.now();
  let made = '';
  for (const f of files) {
    const d = dirname(join(root, f.path));
    if (d !== made) mkdirSync((made = d), { recursive: true });
    writeFileSync(join(root, f.path), f.content, { mode: f.mode });
  }
  return performance.now() - t;
}

const WORKERS = 990; // the schema allows 1000 hosts

interface Goal { what: string; ms: number; limitMs: number }
const results: Goal[] = [];
async function measure<T>(what: string, limitMs: number, fn: () => Promise<T> | T): Promise<T> {
  const t = performance.now();
  const value = await fn();
  results.push({ what, ms: performance.now() - t, limitMs });
  return value;
}

/** The HA profile, grown to WORKERS workers in a /20 node subnet. */
function bigTopology(): string {
  const doc = parse(readFileSync(new URL('../../profiles/ubuntu-26-04-ha.yaml', import.meta.url), 'utf8'));
  doc.name = 'bench';
  doc.network.nodeSubnet = '10.30.0.0/20';
  doc.network.podSubnet = '10.128.0.0/14'; // a /24 per node
  doc.hosts = [
    ...[1, 2, 3, 4, 5].map((i) => ({ name: `cp${i}`, role: 'control-plane', ip: `10.30.0.${10 + i}` })),
    ...Array.from({ length: WORKERS }, (_, i) => ({ name: `worker${i + 1}`, role: 'worker', ip: `10.30.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` })),
    { name: 'lb1', role: 'load-balancer', ip: '10.30.0.8', interface: 'ens18' },
    { name: 'lb2', role: 'load-balancer', ip: '10.30.0.9', interface: 'ens18' },
  ];
  return stringify(doc);
}

const work = await mkdtemp(join(tmpdir(), 'kubebake-bench-'));
try {
  const text = bigTopology();
  const loaded = await measure(`validate ${WORKERS + 7} hosts`, 1500, () => loadTopology(text, 'bench.yaml'));
  if (!loaded.topology) throw new Error(`bench topology invalid: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  const topology = loaded.topology;
  const stored = await measure('create cluster PKI and token', 3000, () => loadOrCreateSecrets(join(work, 'secrets')));
  if ('diagnostics' in stored) throw new Error('secrets failed');
  await stored.commit();
  await measure('read back stored secrets', 500, () => loadOrCreateSecrets(join(work, 'secrets')));
  const plan = await measure('build plan', 500, () => withSecrets(buildPlan(topology), stored.secrets));
  const tree = await measure(`render cloud-init for ${plan.nodes.length} hosts`, 3000, () => renderCloudInitTree(plan));
  await measure('render packer templates', 1000, () => renderPackerTree(buildPlan(topology)));
  await measure(`write ${tree.files().length} files`, 4000, () => writeTree(join(work, 'out'), tree));
  await measure('re-render unchanged (all files compared)', 3000, () => writeTree(join(work, 'out'), tree));

  // The writer alone at 5,000 hosts (~15,000 files; the schema stops at 1,000 hosts, so the
  // tree is the rendered one with each worker's files repeated under more names). Goals are
  // relative to writing the same bytes raw in this process: first write ≤ 1.5×, unchanged ≤ 0.5× first.
  const big = new FileTree();
  const workers = tree.files().filter((f) => f.path.startsWith('hosts/worker'));
  for (let h = 0; h < 5000; h++) {
    for (const f of workers.filter((w) => w.path.startsWith(`hosts/worker${(h % WORKERS) + 1}/`))) big.add(f.path.replace(/^hosts\/worker\d+\//, `hosts/node${h}/`), f.content, f.mode);
  }
  const bigFiles = big.files();
  const rawMs = timeRaw(join(work, 'raw'), bigFiles);
  const bytes = bigFiles.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
  await measure(`write ${bigFiles.length} files (${(bytes / 2 ** 20).toFixed(0)} MiB; raw ${rawMs.toFixed(0)} ms)`, rawMs * 1.5, () => writeTree(join(work, 'big'), big));
  const first = results[results.length - 1]!.ms;
  await measure(`re-render unchanged, ${bigFiles.length} files`, first * 0.5, () => writeTree(join(work, 'big'), big));
} finally {
  await rm(work, { recursive: true, force: true });
}

const rssMiB = process.resourceUsage().maxRSS / 1024;
const RSS_LIMIT_MIB = 768;
let failed = false;
for (const r of results) {
  const ok = r.ms <= r.limitMs;
  failed ||= !ok;
  console.log(`${ok ? 'ok  ' : 'SLOW'} ${r.what.padEnd(44)} ${r.ms.toFixed(0).padStart(6)} ms  (goal ≤ ${r.limitMs} ms)`);
}
const memOk = rssMiB <= RSS_LIMIT_MIB;
failed ||= !memOk;
console.log(`${memOk ? 'ok  ' : 'BIG '} ${'peak resident memory'.padEnd(44)} ${rssMiB.toFixed(0).padStart(6)} MiB (goal ≤ ${RSS_LIMIT_MIB} MiB)`);
process.exitCode = failed ? 1 : 0;
