// The whole `kubebake render cloud-init` of a grown cluster as an operator runs it: the bundled
// CLI, every delivery form (seed ISOs, tars, vSphere, Proxmox, libvirt), in a process of its own
// (so its peak memory is its own). Then the bytes it wrote, written raw by the same process, and
// an unchanged re-render (the same command in a child: its start counts, as an operator's would).
// Prints JSON for bench/run.ts on its last line (the command prints a line per host before it).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bigTopology } from './cluster.js';

const hosts = Number(process.argv[2]);
const work = await mkdtemp(join(tmpdir(), 'kubebake-bench-'));
try {
  const file = join(work, 'bench.yaml');
  writeFileSync(file, bigTopology(hosts));
  const out = join(work, 'out');
  spawnSync('sync'); // a quiet disk (see render-run.ts)
  const args = ['render', 'cloud-init', '-f', file, '-o', out];
  process.argv = [process.execPath, 'kubebake', ...args];
  const t = performance.now();
  await import(new URL('../../dist/cli/main.js', import.meta.url).href);
  const ms = performance.now() - t;
  if (process.exitCode !== 0) throw new Error(`render cloud-init exited ${process.exitCode}`);
  const rssMiB = process.resourceUsage().maxRSS / 1024;

  // The same files raw: each read back (not timed), then its folder made and its bytes written.
  const raw = join(work, 'raw');
  spawnSync('sync');
  let rawMs = 0;
  let files = 0;
  let bytes = 0;
  /** What the command's files take on disk: less than their bytes, zero chunks being holes (output/tree.ts). */
  let diskBytes = 0;
  const copy = (from: string, to: string): void => {
    const w0 = performance.now();
    mkdirSync(to);
    rawMs += performance.now() - w0;
    for (const e of readdirSync(from, { withFileTypes: true })) {
      if (e.isDirectory()) copy(join(from, e.name), join(to, e.name));
      else {
        const content = readFileSync(join(from, e.name));
        diskBytes += statSync(join(from, e.name)).blocks * 512;
        const w = performance.now();
        writeFileSync(join(to, e.name), content);
        rawMs += performance.now() - w;
        files++;
        bytes += content.length;
      }
    }
  };
  copy(out, raw);
  spawnSync('sync');
  const r0 = performance.now();
  const again = spawnSync(process.execPath, [new URL('../../bin/kubebake.js', import.meta.url).pathname, ...args], { stdio: 'ignore' });
  const rerenderMs = performance.now() - r0;
  if (again.status !== 0) throw new Error(`the re-render exited ${again.status}`);
  process.stdout.write('\n' + JSON.stringify({ hosts, ms, rawMs, rerenderMs, rssMiB, files, bytes, diskBytes }) + '\n');
} finally {
  await rm(work, { recursive: true, force: true });
}
