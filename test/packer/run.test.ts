// bakeImages with real child processes. Packer itself is not run: a STAND-IN shell script
// (`fakePackerRecordingArgs`, written below) takes its place. It records its argv and cwd to a
// log file, prints a line on stdout and one on stderr, and for `build` writes files into
// ./output/. Marker files in an image directory change its behaviour: `fail-<step>` makes that
// step exit 1, `slow-build` makes build sleep until interrupted (and exit on SIGINT), and
// `stubborn-build` makes build ignore SIGINT and SIGTERM (so only SIGKILL stops it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bakeImages, type BakeOptions, type Spawner } from '../../src/packer/run.js';

let work = '';
/** Path of the stand-in packer script (NOT Packer). */
let fakePackerRecordingArgs = '';

const FAKE_PACKER_SCRIPT = `#!/bin/sh
# STAND-IN for packer, written by test/packer/run.test.ts. It is not Packer.
cwd=$(pwd -P)
printf '%s|%s\\n' "$cwd" "$*" >> "$FAKE_PACKER_LOG"
echo "stand-in packer: $1 starting"
echo "stand-in packer: $1 note on stderr" >&2
if [ -f "fail-$1" ]; then
  echo "stand-in packer: $1 fails as asked" >&2
  exit 1
fi
if [ "$1" = build ]; then
  if [ -f slow-build ]; then
    trap 'echo "stand-in packer: got SIGINT, cleaning up"; exit 130' INT
    echo "stand-in packer: build sleeping"
    # Short sleeps: the trap runs within 0.1 s of SIGINT, even one that arrives between commands.
    i=0
    while [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  if [ -f stubborn-build ]; then
    trap '' INT TERM
    sleep 60 &
    echo $! > sleep.pid
    echo "stand-in packer: build sleeping"
    wait $!
  fi
  mkdir -p output/sub
  printf 'disk image of %s\\n' "$(basename "$cwd")" > output/disk.qcow2
  printf 'manifest' > output/sub/manifest.json
fi
echo "stand-in packer: $1 done"
`;

before(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'kubebake-packer-run-')));
  fakePackerRecordingArgs = join(work, 'fake-packer-recording-args.sh');
  writeFileSync(fakePackerRecordingArgs, FAKE_PACKER_SCRIPT);
  chmodSync(fakePackerRecordingArgs, 0o755);
});

after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
/** A fresh case: image directories (with optional marker files), a call log, captured lines. */
function makeCase(images: Record<string, string[]>): { dirs: Record<string, string>; logFile: string; lines: string[]; opts: BakeOptions } {
  const root = join(work, `case-${++n}`);
  const dirs: Record<string, string> = {};
  for (const [name, markers] of Object.entries(images)) {
    dirs[name] = join(root, name);
    mkdirSync(dirs[name], { recursive: true });
    writeFileSync(join(dirs[name], 'image.pkr.hcl'), '# rendered template (unused by the stand-in)\n');
    for (const m of markers) writeFileSync(join(dirs[name], m), '');
  }
  const logFile = join(root, 'calls.log');
  writeFileSync(logFile, '');
  const lines: string[] = [];
  return {
    dirs,
    logFile,
    lines,
    opts: {
      images: Object.keys(images).map((name) => ({ name, dir: dirs[name]! })),
      packer: fakePackerRecordingArgs,
      env: { FAKE_PACKER_LOG: logFile },
      log: (l) => lines.push(l),
      handleSignals: false,
    },
  };
}

/** The recorded calls of one image directory: its argument strings in order. */
function callsIn(logFile: string, dir: string): string[] {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|') as [string, string])
    .filter(([cwd]) => cwd === dir)
    .map(([, args]) => args);
}

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

test('each image runs init, validate, build in its own directory, with prefixed output and an artifact summary', async () => {
  const c = makeCase({ alpha: [], beta: [] });
  const results = await bakeImages({ ...c.opts, parallel: 2 });

  for (const name of ['alpha', 'beta']) {
    assert.deepEqual(callsIn(c.logFile, c.dirs[name]!), ['init .', 'validate .', 'build -color=false .'], name);
    for (const step of ['init', 'validate', 'build']) {
      assert.ok(c.lines.includes(`[${name}] stand-in packer: ${step} starting`), `stdout of ${step} prefixed for ${name}`);
      assert.ok(c.lines.includes(`[${name}] stand-in packer: ${step} note on stderr`), `stderr of ${step} prefixed for ${name}`);
    }
    assert.ok(c.lines.some((l) => l.startsWith(`[${name}] :: started`)));
    assert.ok(c.lines.some((l) => new RegExp(`^\\[${name}\\] :: validated in \\d+\\.\\ds$`).test(l)));
    assert.ok(c.lines.some((l) => new RegExp(`^\\[${name}\\] :: built in \\d+\\.\\ds$`).test(l)));
  }
  // No unprefixed line from packer, and nothing interleaved inside a line.
  for (const l of c.lines) assert.ok(!l.includes('stand-in packer') || /^\[(alpha|beta)\] stand-in packer: /.test(l), l);

  assert.deepEqual(results.map((r) => [r.name, r.ok, r.built, r.error]), [['alpha', true, true, undefined], ['beta', true, true, undefined]]);
  const alpha = results[0]!;
  const disk = 'disk image of alpha\n';
  assert.deepEqual(
    alpha.artifacts.map((a) => ({ file: a.file, size: a.size, sha256: a.sha256 })),
    [
      { file: 'disk.qcow2', size: Buffer.byteLength(disk), sha256: sha256(disk) },
      { file: 'sub/manifest.json', size: 8, sha256: sha256('manifest') },
    ],
  );
  assert.equal(alpha.artifacts[0]!.path, join(c.dirs.alpha!, 'output', 'disk.qcow2'));
  // The summary names each artifact by a path the operator can open (absolute here: outside the working folder).
  assert.ok(c.lines.includes(`      ${join(c.dirs.alpha!, 'output', 'disk.qcow2')}  ${Buffer.byteLength(disk)} B  sha256:${sha256(disk)}`), c.lines.join('\n'));
  assert.ok(c.lines.includes('2 of 2 image(s) built.'));
});

test('at most `parallel` packer processes run at once', async () => {
  const c = makeCase({ a: [], b: [], c: [], d: [] });
  let live = 0;
  let peak = 0;
  const countingSpawner: Spawner = (cmd, args, o) => {
    const child = spawn(cmd, [...args], o);
    peak = Math.max(peak, ++live);
    child.once('exit', () => live--);
    return child;
  };
  const results = await bakeImages({ ...c.opts, parallel: 2, spawn: countingSpawner });
  assert.ok(results.every((r) => r.ok));
  assert.equal(peak, 2);
});

test('a dry run validates but never builds', async () => {
  const c = makeCase({ alpha: [] });
  const [r] = await bakeImages({ ...c.opts, dryRun: true });
  assert.deepEqual(callsIn(c.logFile, c.dirs.alpha!), ['init .', 'validate .']);
  assert.deepEqual([r!.ok, r!.built, r!.artifacts], [true, false, []]);
  assert.ok(!existsSync(join(c.dirs.alpha!, 'output')));
  assert.ok(c.lines.some((l) => /^\[alpha\] :: validated in .* \(dry run: not built\)$/.test(l)));
});

test('a failing validate fails that image only; the others still build', async () => {
  const c = makeCase({ broken: ['fail-validate'], fine: [] });
  const results = await bakeImages({ ...c.opts, parallel: 1 });
  assert.deepEqual(callsIn(c.logFile, c.dirs.broken!), ['init .', 'validate .'], 'no build after a failed validate');
  assert.deepEqual(callsIn(c.logFile, c.dirs.fine!), ['init .', 'validate .', 'build -color=false .']);
  const [broken, fine] = results;
  assert.deepEqual([broken!.ok, broken!.failedStep, broken!.error, broken!.artifacts], [false, 'validate', 'packer validate exited with code 1', []]);
  assert.equal(fine!.ok, true);
  assert.equal(fine!.artifacts.length, 2);
  assert.ok(c.lines.includes('[broken] stand-in packer: validate fails as asked'));
  assert.ok(c.lines.some((l) => /^\[broken\] :: failed in packer validate after \d+\.\ds: packer validate exited with code 1$/.test(l)));
  assert.ok(c.lines.includes('  [broken] FAILED: packer validate exited with code 1'));
  assert.ok(c.lines.includes('1 of 2 image(s) built, 1 failed.'));
});

test('force adds -force to packer build; a custom output directory is summarised', async () => {
  const c = makeCase({ alpha: [] });
  const [r] = await bakeImages({ ...c.opts, force: true, images: [{ name: 'alpha', dir: c.dirs.alpha!, outputDir: 'output/sub' }] });
  assert.deepEqual(callsIn(c.logFile, c.dirs.alpha!), ['init .', 'validate .', 'build -color=false -force .']);
  assert.deepEqual(r!.artifacts.map((a) => a.file), ['manifest.json']);
});

test('abort stops a long-running build with SIGINT; the stand-in cleans up and the image is marked interrupted', async () => {
  const c = makeCase({ slow: ['slow-build'] });
  const controller = new AbortController();
  const started = Date.now();
  const pending = bakeImages({
    ...c.opts,
    signal: controller.signal,
    killGraceMs: 20_000, // longer than the test may take: SIGINT alone must do it
    log: (l) => {
      c.lines.push(l);
      if (l === '[slow] stand-in packer: build sleeping') controller.abort();
    },
  });
  const [r] = await pending;
  assert.ok(Date.now() - started < 10_000, 'stopped promptly');
  assert.deepEqual([r!.ok, r!.failedStep, r!.built], [false, 'build', false]);
  assert.match(r!.error!, /^interrupted \(packer build exited with code 130\)$/);
  assert.ok(c.lines.includes('[slow] stand-in packer: got SIGINT, cleaning up'));
  assert.ok(!existsSync(join(c.dirs.slow!, 'output')));
});

test('a build that ignores SIGINT and SIGTERM is killed after the grace periods, with its process group', async () => {
  const c = makeCase({ stubborn: ['stubborn-build'], later: [] });
  const controller = new AbortController();
  const started = Date.now();
  const results = await bakeImages({
    ...c.opts,
    parallel: 1,
    signal: controller.signal,
    killGraceMs: 300,
    log: (l) => {
      c.lines.push(l);
      if (l === '[stubborn] stand-in packer: build sleeping') controller.abort();
    },
  });
  assert.ok(Date.now() - started < 10_000, 'killed promptly');
  const [stubborn, later] = results;
  assert.match(stubborn!.error!, /^interrupted \(packer build was stopped by SIGKILL\)$/);
  assert.ok(c.lines.some((l) => l.includes('sending SIGTERM')) && c.lines.some((l) => l.includes('sending SIGKILL')));
  // The stand-in's own child (sleep) was in the group and is gone too (a zombie counts as gone).
  // SIGKILL reaches the whole group at once, but a process dies only when the kernel next runs it:
  // on a busy machine the check can come first, so it gets 2 s (the sleep would live 60 s).
  const sleepPid = Number(readFileSync(join(c.dirs.stubborn!, 'sleep.pid'), 'utf8'));
  for (const until = Date.now() + 2000; isAlive(sleepPid) && Date.now() < until; ) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!isAlive(sleepPid), `sleep ${sleepPid} survived`);
  // An image not yet started when the abort came is reported, not run.
  assert.deepEqual([later!.ok, later!.error], [false, 'not started: interrupted']);
  assert.deepEqual(callsIn(c.logFile, c.dirs.later!), []);
});

test('the spawner is injectable; a packer that cannot be started fails its image with a clear error', async () => {
  const c = makeCase({ alpha: [] });
  const seen: string[] = [];
  const recordingSpawner: Spawner = (cmd, args, o) => {
    seen.push(`${o.cwd}: ${args.join(' ')}`);
    return spawn(cmd, [...args], o);
  };
  await bakeImages({ ...c.opts, dryRun: true, spawn: recordingSpawner });
  assert.deepEqual(seen, [`${c.dirs.alpha}: init .`, `${c.dirs.alpha}: validate .`]);

  const [r] = await bakeImages({ ...c.opts, packer: join(work, 'no-such-packer') });
  assert.equal(r!.failedStep, 'init');
  assert.match(r!.error!, /^cannot run .*no-such-packer: .*ENOENT/);

  const [missing] = await bakeImages({ ...c.opts, images: [{ name: 'ghost', dir: join(work, 'nowhere') }] });
  assert.match(missing!.error!, /image directory .*nowhere does not exist/);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
