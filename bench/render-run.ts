// One `render cloud-init` of a grown cluster in a process of its own (so its peak memory is its
// own), timed stage by stage, then the same bytes written raw, then an unchanged re-render.
// Prints JSON for bench/run.ts.
//
// Each timed phase starts on a quiet disk (`sync` first, untimed): otherwise a phase pays for
// the write-back of the one before it, and the ratio measures the order of the phases (raw
// writes of the same bytes varied 1.6–9 s between runs here without it).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { held } from '../src/output/tree.js';
import { writeTree } from '../src/output/write.js';
import { buildPlan, withSecrets } from '../src/plan/plan.js';
import { loadOrCreateSecrets } from '../src/store/secrets-store.js';
import { renderCloudInitTree } from '../src/render/cloud-init/cluster.js';
import { loadTopology } from '../src/topology/load.js';
import { bigTopology } from './cluster.js';

const hosts = Number(process.argv[2]);
/** `memory`: the first render only, so the peak resident memory is that of one render. */
const memoryOnly = process.argv[3] === 'memory';
const work = await mkdtemp(join(tmpdir(), 'kubebake-bench-'));
try {
  const text = bigTopology(hosts);
  const out = join(work, 'out');
  /** What the command does: read, validate, plan, secrets, render in memory, write. */
  const quiet = (): void => void spawnSync('sync');
  const renderRun = async (): Promise<{ ms: number; renderMs: number; writeMs: number; files: number; bytes: number }> => {
    quiet();
    const t0 = performance.now();
    const loaded = loadTopology(text, 'bench.yaml');
    if (!loaded.topology) throw new Error(loaded.diagnostics.map((d) => d.message).join('; '));
    const stored = await loadOrCreateSecrets(join(out, 'secrets'));
    if ('diagnostics' in stored) throw new Error('secrets');
    const plan = withSecrets(buildPlan(loaded.topology), stored.secrets);
    const t1 = performance.now();
    const tree = renderCloudInitTree(plan);
    const t2 = performance.now();
    const renderMs = t2 - t1;
    const result = await writeTree(join(out, plan.name), tree);
    const writeMs = performance.now() - t2;
    if ('diagnostics' in result) throw new Error(result.diagnostics.map((d) => d.message).join('; '));
    await stored.commit(); // as the CLI does: the store changes only after the files were written
    const files = tree.files();
    return { ms: performance.now() - t0, renderMs, writeMs, files: files.length, bytes: files.reduce((n, f) => n + Buffer.byteLength(held(f)), 0) };
  };
  const first = await renderRun();
  if (memoryOnly) {
    process.stdout.write(JSON.stringify({ hosts, rssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
    process.exit(0);
  }
  // The same bytes, written raw: folders, then the files, one call each, synchronously as the
  // writer does (the faster way here: see output/write-apply.ts).
  const again = loadTopology(text, 'bench.yaml');
  const stored = await loadOrCreateSecrets(join(out, 'secrets'));
  if (!again.topology || 'diagnostics' in stored) throw new Error('bench setup');
  const files = renderCloudInitTree(withSecrets(buildPlan(again.topology), stored.secrets)).files();
  const raw = join(work, 'raw');
  quiet();
  const t = performance.now();
  for (const d of new Set(files.map((f) => dirname(join(raw, f.path))))) mkdirSync(d, { recursive: true });
  for (const f of files) writeFileSync(join(raw, f.path), held(f), { mode: f.mode });
  const rawMs = performance.now() - t;
  const rerender = await renderRun();
  process.stdout.write(
    JSON.stringify({ hosts, firstMs: first.ms, renderMs: first.renderMs, writeMs: first.writeMs, rawMs, rerenderMs: rerender.ms, files: first.files, bytes: first.bytes, rssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n',
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
