// Runs Packer over rendered image directories: `packer init .`, `packer validate .`, then (unless
// a dry run) `packer build -color=false .`, a few images at a time, with each output line
// prefixed by its image's name, a progress line per step, clean interruption, and a summary of
// the artifacts each build left in its output directory (size and sha256, hashed as a stream).
//
// Interruption: each packer runs in its own process group, so a terminal's Ctrl-C reaches only
// kubebake, which then sends SIGINT to each group (packer's own interrupt path: it cancels the
// build and cleans up, and its plugins and VMs are in that group too), SIGTERM after a grace
// period, and SIGKILL after another. A second Ctrl-C skips the grace periods.

import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { mapLimit } from '../util/map-limit.js';

export interface BakeImage {
  /** Shown as the `[name] ` prefix; unique. */
  name: string;
  /** The directory with the image's *.pkr.hcl; packer runs there. */
  dir: string;
  /** Where the build leaves its artifacts; relative to `dir` unless absolute. Default: BakeOptions.outputDir. */
  outputDir?: string;
}

export type PackerStep = 'init' | 'validate' | 'build';

export interface Artifact {
  /** Path relative to the image's output directory ('/'-separated). */
  file: string;
  /** Absolute path. */
  path: string;
  size: number;
  sha256: string;
}

export interface BakeResult {
  name: string;
  /** True when every step run succeeded (init and validate for a dry run, build too otherwise). */
  ok: boolean;
  /** Files in the output directory after a successful build; empty otherwise. */
  artifacts: Artifact[];
  /** Why it failed, one line; undefined when ok. */
  error?: string;
  /** The step that failed or was interrupted; undefined when ok or when it never started. */
  failedStep?: PackerStep;
  /** True when `packer build` ran and succeeded. */
  built: boolean;
  elapsedMs: number;
}

/** How a child is started; injectable for tests. Must honour cwd, env, detached and stdio. */
export type Spawner = (
  command: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; detached: boolean; stdio: ['ignore', 'pipe', 'pipe'] },
) => ChildProcess;

export interface BakeOptions {
  images: readonly BakeImage[];
  /** Path of the packer binary (see ensurePacker). */
  packer: string;
  /** Run init and validate only. */
  dryRun?: boolean;
  /** Images baked at once; default 2. */
  parallel?: number;
  /** Receives every output, progress and summary line (no trailing newline); default stdout. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  spawn?: Spawner;
  /** Default output directory of every image, relative to its dir; default 'output'. */
  outputDir?: string;
  /** Pass `-force` to packer build (builders then delete a previous build's artifacts). Default false. */
  force?: boolean;
  /** Added to the environment of packer (over process.env). CHECKPOINT_DISABLE=1 unless set here. */
  env?: NodeJS.ProcessEnv;
  /** Grace period after SIGINT before SIGTERM, and after SIGTERM before SIGKILL; default 30 s. */
  killGraceMs?: number;
  /** Turn the process's SIGINT/SIGTERM into an abort while baking; default true. */
  handleSignals?: boolean;
}

const DEFAULT_PARALLEL = 2;
const DEFAULT_GRACE_MS = 30_000;
/** After a child exits, how long its pipes may stay open (held by a stray grandchild) before they are closed. */
const PIPE_DRAIN_MS = 5_000;

/** Bakes the images; resolves with one result per image, in the order given. Never rejects for a failed build. */
export async function bakeImages(opts: BakeOptions): Promise<BakeResult[]> {
  const log = opts.log ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const spawner: Spawner = opts.spawn ?? ((cmd, args, o) => nodeSpawn(cmd, [...args], o));
  const grace = opts.killGraceMs ?? DEFAULT_GRACE_MS;
  const parallel = Number.isFinite(opts.parallel) && (opts.parallel ?? 0) >= 1 ? Math.floor(opts.parallel!) : DEFAULT_PARALLEL;
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', ...opts.env };
  const names = new Set<string>();
  for (const img of opts.images) {
    if (!img.name || /\s/.test(img.name)) throw new TypeError(`bakeImages: image name ${JSON.stringify(img.name)} must be non-empty, without spaces`);
    if (names.has(img.name)) throw new TypeError(`bakeImages: image name "${img.name}" is used twice`);
    names.add(img.name);
  }

  // One abort for everything: the caller's signal, and (optionally) Ctrl-C.
  const stopAll = new AbortController();
  const running = new Set<RunningChild>();
  let interrupts = 0;
  const onCallerAbort = (): void => stopAll.abort();
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (opts.signal?.aborted) stopAll.abort();
  const onProcessSignal = (sig: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts === 1) {
      log(`kubebake: ${sig} received: stopping packer${running.size ? ` (${[...running].map((r) => r.name).join(', ')})` : ''}; press Ctrl-C again to kill it at once`);
      stopAll.abort();
    } else {
      log('kubebake: killing packer now');
      for (const r of running) r.kill();
    }
  };
  const handleSignals = opts.handleSignals !== false;
  if (handleSignals) {
    process.on('SIGINT', onProcessSignal);
    process.on('SIGTERM', onProcessSignal);
  }
  stopAll.signal.addEventListener('abort', () => {
    for (const r of running) r.stop(grace);
  });

  let results: (BakeResult | undefined)[] = [];
  // An image not yet started when the bake is stopped is left undefined: "not started" below.
  const bakeOne = async (img: BakeImage): Promise<BakeResult | undefined> =>
    stopAll.signal.aborted
      ? undefined
      : bakeImage(img, { ...opts, log, spawner, env, running, signal: stopAll.signal, outputDir: opts.outputDir ?? 'output', grace });
  try {
    results = await mapLimit(opts.images, parallel, bakeOne);
  } finally {
    opts.signal?.removeEventListener('abort', onCallerAbort);
    if (handleSignals) {
      process.off('SIGINT', onProcessSignal);
      process.off('SIGTERM', onProcessSignal);
    }
  }
  const final = opts.images.map(
    (img, i): BakeResult => results[i] ?? { name: img.name, ok: false, artifacts: [], error: 'not started: interrupted', built: false, elapsedMs: 0 },
  );
  printSummary(final, log, !!opts.dryRun);
  return final;
}

// ----------------------------------------------------------------------------------------------

interface RunningChild {
  name: string;
  /** SIGINT now, SIGTERM after `grace`, SIGKILL after another `grace`. */
  stop(grace: number): void;
  /** SIGKILL now. */
  kill(): void;
}

interface ImageContext {
  packer: string;
  dryRun?: boolean;
  force?: boolean;
  log: (line: string) => void;
  spawner: Spawner;
  env: NodeJS.ProcessEnv;
  running: Set<RunningChild>;
  signal: AbortSignal;
  outputDir: string;
  grace: number;
}

async function bakeImage(img: BakeImage, ctx: ImageContext): Promise<BakeResult> {
  const started = Date.now();
  const since = (t: number): string => formatDuration(Date.now() - t);
  const progress = (text: string): void => ctx.log(`[${img.name}] :: ${text}`);
  const dir = resolve(img.dir);
  const fail = (error: string, failedStep?: PackerStep): BakeResult => {
    progress(`failed${failedStep ? ` in packer ${failedStep}` : ''} after ${since(started)}: ${error}`);
    return { name: img.name, ok: false, artifacts: [], error, failedStep, built: false, elapsedMs: Date.now() - started };
  };

  try {
    if (!(await stat(dir)).isDirectory()) return fail(`${dir} is not a directory`);
  } catch {
    return fail(`the image directory ${dir} does not exist`);
  }
  progress(`started in ${dir}`);

  const steps: [PackerStep, string[]][] = [
    ['init', ['init', '.']],
    ['validate', ['validate', '.']],
  ];
  if (!ctx.dryRun) steps.push(['build', ['build', '-color=false', ...(ctx.force ? ['-force'] : []), '.']]);
  for (const [step, args] of steps) {
    if (ctx.signal.aborted) return fail('interrupted', step);
    const t = Date.now();
    const outcome = await runPacker(img.name, dir, ctx.packer, args, ctx);
    if (outcome.spawnError) return fail(`cannot run ${ctx.packer}: ${outcome.spawnError}`, step);
    if (ctx.signal.aborted) return fail(`interrupted (packer ${step} ${describeExit(outcome)})`, step);
    if (outcome.code !== 0) return fail(`packer ${step} ${describeExit(outcome)}`, step);
    if (step === 'validate') progress(`validated in ${since(t)}${ctx.dryRun ? ' (dry run: not built)' : ''}`);
    if (step === 'build') progress(`built in ${since(t)}`);
  }
  if (ctx.dryRun) return { name: img.name, ok: true, artifacts: [], built: false, elapsedMs: Date.now() - started };

  const out = isAbsolute(img.outputDir ?? ctx.outputDir) ? (img.outputDir ?? ctx.outputDir) : join(dir, img.outputDir ?? ctx.outputDir);
  let artifacts: Artifact[];
  try {
    artifacts = await listArtifacts(out);
  } catch (e) {
    return { ...fail(`built, but its output ${out} cannot be read: ${(e as Error).message}`), built: true };
  }
  return { name: img.name, ok: true, artifacts, built: true, elapsedMs: Date.now() - started };
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: string;
}

function describeExit(o: Outcome): string {
  return o.signal ? `was stopped by ${o.signal}` : `exited with code ${o.code}`;
}

/** Runs one packer command, streaming its lines prefixed; resolves when it has exited and its output is read. */
function runPacker(name: string, cwd: string, packer: string, args: string[], ctx: ImageContext): Promise<Outcome> {
  const detached = process.platform !== 'win32';
  let child: ChildProcess;
  try {
    child = ctx.spawner(packer, args, { cwd, env: ctx.env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    return Promise.resolve({ code: null, signal: null, spawnError: (e as Error).message });
  }

  const timers: NodeJS.Timeout[] = [];
  const send = (sig: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // The whole group (packer, its plugins, their VMs) when packer leads one; the child alone otherwise.
    if (detached && child.pid) {
      try {
        process.kill(-child.pid, sig);
        return;
      } catch {
        /* not a group leader (e.g. a spawner that ignored `detached`): fall through */
      }
    }
    try {
      child.kill(sig);
    } catch {
      /* already gone */
    }
  };
  let stopping = false;
  const entry: RunningChild = {
    name,
    stop(grace) {
      if (stopping) return;
      stopping = true;
      send('SIGINT');
      timers.push(
        setTimeout(() => {
          ctx.log(`[${name}] :: packer still running ${formatDuration(grace)} after SIGINT: sending SIGTERM`);
          send('SIGTERM');
          timers.push(
            setTimeout(() => {
              ctx.log(`[${name}] :: packer still running after SIGTERM: sending SIGKILL`);
              send('SIGKILL');
            }, grace),
          );
        }, grace),
      );
    },
    kill() {
      stopping = true;
      send('SIGKILL');
    },
  };

  return new Promise<Outcome>((resolvePromise) => {
    let settled = false;
    const readers: Promise<void>[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', (line) => ctx.log(`[${name}] ${line}`));
      readers.push(new Promise((r) => rl.once('close', () => r())));
    }
    const finish = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      ctx.running.delete(entry);
      for (const t of timers) clearTimeout(t);
      // Read what is left, but do not wait forever on pipes a stray grandchild holds open.
      const drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_DRAIN_MS);
      void Promise.all(readers).then(() => {
        clearTimeout(drain);
        resolvePromise(o);
      });
    };
    child.once('error', (e) => finish({ code: null, signal: null, spawnError: e.message }));
    child.once('exit', (code, signal) => finish({ code, signal }));
    ctx.running.add(entry);
    if (ctx.signal.aborted) entry.stop(ctx.grace);
  });
}

/** Regular files under `dir` (recursively, symlinks not followed), sorted, each hashed as a stream. */
export async function listArtifacts(dir: string): Promise<Artifact[]> {
  const files: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && d === dir) return; // no output (e.g. a cloud builder)
      throw e;
    }
    for (const ent of entries) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) await walk(p);
      else if (ent.isFile()) files.push(p);
    }
  };
  await walk(dir);
  files.sort();
  const artifacts: Artifact[] = [];
  for (const path of files) {
    const { size } = await lstat(path);
    artifacts.push({ file: relative(dir, path).split('\\').join('/'), path, size, sha256: await sha256File(path) });
  }
  return artifacts;
}

/** sha256 (hex) of a file, read as a stream. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function printSummary(results: readonly BakeResult[], log: (line: string) => void, dryRun: boolean): void {
  log('');
  log(dryRun ? 'Summary (dry run: nothing built):' : 'Summary:');
  for (const r of results) {
    if (!r.ok) {
      log(`  [${r.name}] FAILED: ${r.error ?? 'unknown error'}`);
      continue;
    }
    if (!r.built) {
      log(`  [${r.name}] validated in ${formatDuration(r.elapsedMs)}`);
      continue;
    }
    log(`  [${r.name}] built in ${formatDuration(r.elapsedMs)}${r.artifacts.length ? '' : ': no files in its output directory'}`);
    for (const a of r.artifacts) log(`      ${shownPath(a.path)}  ${formatSize(a.size)}  sha256:${a.sha256}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  log(`${results.length - failed} of ${results.length} image(s) ${dryRun ? 'validated' : 'built'}${failed ? `, ${failed} failed` : ''}.`);
}

/** Where an artifact is, as the operator can open it: relative to the working folder when inside it. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]} (${bytes} bytes)`;
}
