// `npm run bench`: speed, memory and size goals (issues 7 and 22), each printed against its goal. Exits 1
// when one is missed, so a regression shows up here rather than as a flaky timed unit test.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { held } from '../src/output/tree.js';
import { buildPlan, withSecrets } from '../src/plan/plan.js';
import type { Secrets } from '../src/plan/secrets.js';
import { loadOrCreateSecrets } from '../src/store/secrets-store.js';
import { renderCloudInitTree } from '../src/render/cloud-init/cluster.js';
import { gzipText } from '../src/render/delivery/gzip.js';
import { SEED_FILES } from '../src/render/delivery/seeds.js';
import { loadTopology } from '../src/topology/load.js';
import type { Topology } from '../src/topology/types.js';
import { bigTopology } from './cluster.js';

interface Row { what: string; value: number; goal?: number; unit: string }
const rows: Row[] = [];
const goal = (what: string, value: number, limit: number, unit: string): void => void rows.push({ what, value, goal: limit, unit });
/** A measurement without a goal, printed so that nobody thinks bytes vanished. */
const info = (what: string, value: number, unit: string): void => void rows.push({ what, value, unit });

const repo = new URL('../../', import.meta.url);
const topology = (text: string): Topology => {
  const r = loadTopology(text, 'bench.yaml');
  if (!r.topology) throw new Error(r.diagnostics.map((d) => d.message).join('; '));
  return r.topology;
};
const KiB = 1024;

const work = await mkdtemp(join(tmpdir(), 'kubebake-bench-'));
try {
  // --- sizes: the default profile's hosts with a fresh secrets store (what a user gets) ----------
  const stored = await loadOrCreateSecrets(join(work, 'secrets'));
  if ('diagnostics' in stored) throw new Error('secrets');
  const secrets: Secrets = stored.secrets;
  const base = topology(readFileSync(new URL('profiles/default.yaml', repo), 'utf8'));
  /**
   * The largest seed of each role, or with `same`, that of the named hosts: everything the host is
   * handed (user-data, meta-data, network-config; kubebake writes no vendor-data), and its
   * user-data gzip-compressed (hosts/<host>/user-data.gz, for platforms that cap user-data).
   */
  const sizes = (t: Topology, same?: { cp: string; worker: string }): Record<'cp' | 'worker' | 'lb', { seed: number; gzip: number }> => {
    const plan = withSecrets(buildPlan(t), secrets);
    const tree = renderCloudInitTree(plan);
    const bytes = (path: string): number => Buffer.byteLength(held(tree.get(path)!));
    const seed = (host: string): number => SEED_FILES.reduce((sum, f) => sum + bytes(`hosts/${host}/${f}`), 0);
    const largest = (role: string, name?: string): { seed: number; gzip: number } => {
      const host = plan.nodes.filter((n) => n.role === role && (name === undefined || n.name === name)).map((n) => n.name).sort((a, b) => seed(b) - seed(a))[0]!;
      return { seed: seed(host), gzip: gzipText(held(tree.get(`hosts/${host}/user-data`)!) as string).length };
    };
    return { cp: largest('control-plane', same?.cp), worker: largest('worker', same?.worker), lb: largest('load-balancer') };
  };
  const firstBoot = sizes(base);
  const baked = sizes({ ...base, image: 'baked' });
  goal('everything a host receives (user-data + meta-data + network-config), first-boot control plane (largest)', firstBoot.cp.seed / KiB, 20, 'KiB');
  goal('everything a host receives, first-boot worker', firstBoot.worker.seed / KiB, 12, 'KiB');
  goal('everything a host receives, baked control plane (largest)', baked.cp.seed / KiB, 12, 'KiB');
  goal('everything a host receives, baked worker', baked.worker.seed / KiB, 4, 'KiB');
  // EC2 takes 16 KB of user-data: the gzip form must fit it for every role.
  goal('user-data.gz, first-boot control plane (largest; EC2 takes 16 KB)', firstBoot.cp.gzip / KiB, 16, 'KiB');
  info('user-data.gz, first-boot worker', firstBoot.worker.gzip / KiB, 'KiB');
  info('everything a host receives, first-boot load balancer', firstBoot.lb.seed / KiB, 'KiB');
  // With delivery.server (the pxe profile) every host also carries its signed report hook and key.
  const served = sizes(topology(readFileSync(new URL('profiles/pxe.yaml', repo), 'utf8')));
  info('everything a host receives with delivery.server (pxe profile), first-boot control plane', served.cp.seed / KiB, 'KiB');
  info('user-data.gz with delivery.server (pxe profile), first-boot control plane', served.cp.gzip / KiB, 'KiB');

  // --- a host's user-data does not grow with the cluster ------------------------------------
  // The same hosts in both clusters: a larger cluster's largest worker has a longer name and address.
  const grown = (n: number): Record<'cp' | 'worker' | 'lb', number> => {
    const s = sizes(topology(bigTopology(n)), { cp: 'cp1', worker: 'worker100' });
    return { cp: s.cp.seed, worker: s.worker.seed, lb: s.lb.seed };
  };
  const at500 = grown(500);
  const at5000 = grown(5000);
  goal('user-data growth of one worker, 500 → 5000 hosts', at5000.worker - at500.worker, 0, 'bytes');
  goal('user-data growth of one control plane, 500 → 5000 hosts', at5000.cp - at500.cp, 0, 'bytes');
  // Its ingress frontends name the labelled workers only (bench/cluster.ts).
  goal('user-data growth of a load balancer, 500 → 5000 hosts', at5000.lb - at500.lb, 0, 'bytes');

  // --- in memory: 5000 hosts ----------------------------------------------------------------
  // Warm the code paths on another plan of the same cluster, as a CLI run's first hosts do: no
  // per-node cache of the warm-up carries over to the plan measured.
  renderCloudInitTree(withSecrets(buildPlan(topology(bigTopology(5000))), secrets));
  const plan5000 = withSecrets(buildPlan(topology(bigTopology(5000))), secrets);
  const t = performance.now();
  renderCloudInitTree(plan5000);
  goal('render 5000 hosts in memory', performance.now() - t, 500, 'ms');
} finally {
  await rm(work, { recursive: true, force: true });
}

// --- whole runs, each in a process of its own ---------------------------------------------------
const child = (hosts: number, mode = ''): Record<string, number> => {
  const r = spawnSync(process.execPath, [new URL('render-run.js', import.meta.url).pathname, String(hosts), mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bench child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
};
const run500 = child(500);
const run5000 = child(5000);
/** Both times of a ratio: a ratio alone hides whether the disk was fast or slow that run. */
const times = (ms: number, rawMs: number): string => `${(ms / 1000).toFixed(1)} s vs ${(rawMs / 1000).toFixed(1)} s`;
goal(`render cloud-init, NoCloud files, 5000 hosts (${run5000.files} files, ${(run5000.bytes! / 2 ** 20).toFixed(0)} MiB), vs writing them raw (${times(run5000.firstMs!, run5000.rawMs!)})`, run5000.firstMs! / run5000.rawMs!, 1.5, '×');
goal('render cloud-init, NoCloud files, growth 500 → 5000 hosts', run5000.firstMs! / run500.firstMs!, 11, '×');
goal('unchanged re-render vs first render, NoCloud files, 5000 hosts', run5000.rerenderMs! / run5000.firstMs!, 0.5, '×');
goal('peak resident memory, render cloud-init, NoCloud files, 5000 hosts', child(5000, 'memory').rssMiB!, 250, 'MiB');
// The command as an operator runs it: the bundled CLI with every delivery form (command-run.ts).
const command = (() => {
  const r = spawnSync(process.execPath, [new URL('command-run.js', import.meta.url).pathname, '5000'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`bench command failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
})();
// The raw write writes every byte; the command leaves zero chunks (a seed ISO's padding) as holes.
goal(`whole render cloud-init, every delivery form, 5000 hosts (${command.files} files, ${(command.bytes! / 2 ** 30).toFixed(1)} GiB on ${(command.diskBytes! / 2 ** 30).toFixed(1)} GiB of disk), vs writing them raw (${times(command.ms!, command.rawMs!)})`, command.ms! / command.rawMs!, 1.5, '×');
goal('unchanged re-render vs first render, whole render cloud-init, every delivery form, 5000 hosts', command.rerenderMs! / command.ms!, 0.5, '×');
goal('peak resident memory, whole render cloud-init, every delivery form, 5000 hosts', command.rssMiB!, 250, 'MiB');

// --- CLI start ----------------------------------------------------------------------------------
const cli = new URL('../../bin/kubebake.js', import.meta.url).pathname;
const starts = Array.from({ length: 7 }, () => {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, 'validate', '-f', new URL('profiles/default.yaml', repo).pathname], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`validate failed: ${r.stderr}`);
  return performance.now() - t;
}).sort((a, b) => a - b);
goal('CLI start: validate the default profile (median of 7)', starts[3]!, 150, 'ms');
// The same measurement of `node -e 0`: what no CLI on this machine can start faster than. The goal
// is absolute; this line says how much of a miss is the machine's and how much is kubebake's.
const bare = Array.from({ length: 7 }, () => {
  const t = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - t;
}).sort((a, b) => a - b);

let failed = false;
for (const r of rows) {
  const ok = r.goal === undefined || r.value <= r.goal;
  failed ||= !ok;
  const v = r.unit === 'ms' || r.unit === 'MiB' || r.unit === 'bytes' ? r.value.toFixed(0) : r.value.toFixed(2);
  const mark = r.goal === undefined ? 'info' : ok ? 'ok  ' : 'MISS';
  console.log(`${mark} ${r.what.padEnd(140)} ${v.padStart(8)} ${r.unit.padEnd(5)} ${r.goal === undefined ? '(no goal)' : `(goal ≤ ${r.goal} ${r.unit})`}`);
}
console.log(`     (for reference: node itself starts in ${bare[3]!.toFixed(0)} ms here, median of 7)`);
process.exitCode = failed ? 1 : 0;
