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
  await stored.commit(); // loading writes nothing until commit
  await measure('read back stored secrets', 500, () => loadOrCreateSecrets(join(work, 'secrets')));
  const plan = await measure('build plan', 500, () => withSecrets(buildPlan(topology), stored.secrets));
  const tree = await measure(`render cloud-init for ${plan.nodes.length} hosts`, 3000, () => renderCloudInitTree(plan));
  await measure('render packer templates', 1000, () => renderPackerTree(buildPlan(topology)));
  await measure(`write ${tree.files().length} files`, 4000, () => writeTree(join(work, 'out'), tree));
  await measure('re-render unchanged (all files compared)', 3000, () => writeTree(join(work, 'out'), tree));
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
