// The first-boot runner (src/steps/sh/firstboot.sh) run by bash, as the host's unit runs it: its
// strict header, its paths moved into a temp folder, a small helper library and stand-in steps.
// What an operator reads (the status file, the runner's last line, the log) and what a rerun after
// a failure or a reboot does again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNNER } from '../../src/steps/firstboot.js';
import { runnerScript } from '../../src/steps/scripts.js';
import { shellFile } from '../../src/steps/sh/template.js';
import { withTempDir } from '../helpers/tmp.js';

interface Host { dir: string; runner: string; read: (rel: string) => string }

/** The runner with its paths under `dir`; `steps` become lib/<name>.sh, listed in that order. */
function host(dir: string, steps: Record<string, string>): Host {
  for (const sub of ['lib', 'etc', 'state']) mkdirSync(join(dir, sub));
  const runner = join(dir, 'lib', 'firstboot.sh');
  const body = shellFile('firstboot.sh', {
    STATUS: join(dir, 'state', 'status'),
    STEPS_DONE: join(dir, 'state', 'steps-done'),
    LOG: join(dir, 'log', 'firstboot.log'),
    STATE_DIR: join(dir, 'state'),
    LIBRARY: join(dir, 'lib', 'lib.sh'),
    SCRIPT_DIR: join(dir, 'lib'),
    STEP_LIST: join(dir, 'etc', 'steps'),
  });
  writeFileSync(runner, runnerScript({ ...RUNNER, body }));
  // The library every step sources first; the runner passes the step's name as $0.
  writeFileSync(join(dir, 'lib', 'lib.sh'), `ran() { echo "$0" >> ${join(dir, 'ran')}; }\n`);
  writeFileSync(join(dir, 'etc', 'steps'), Object.keys(steps).map((s) => `${s}\n`).join(''));
  for (const [name, code] of Object.entries(steps)) writeFileSync(join(dir, 'lib', `${name}.sh`), code);
  return { dir, runner, read: (rel) => (existsSync(join(dir, rel)) ? readFileSync(join(dir, rel), 'utf8') : '') };
}

const run = (h: Host): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync('bash', [h.runner], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('each step runs once, in order, after the library, with its name as $0; then status ok and a rerun does nothing', () => withTempDir((dir) => {
  const h = host(dir, { first: 'ran\n', second: 'ran\n', third: 'ran\n' });
  const r = run(h);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'kubebake: all steps done\n');
  assert.equal(h.read('ran'), 'first\nsecond\nthird\n');
  assert.equal(h.read('state/status'), 'ok\n');
  assert.equal(h.read('state/steps-done'), 'first\nsecond\nthird\n');
  assert.deepEqual(h.read('log/firstboot.log').split('\n').filter((l) => l.startsWith('===')).map((l) => l.split(' ')[1]), ['first', 'second', 'third']);
  const again = run(h);
  assert.equal(again.status, 0);
  assert.equal(again.stdout, `kubebake: already done (see ${join(dir, 'log', 'firstboot.log')})\n`);
  assert.equal(h.read('ran'), 'first\nsecond\nthird\n', 'nothing ran again');
}));

test('a failed step: status and the runner name it with its last line of output; a rerun resumes with it', () => withTempDir((dir) => {
  const h = host(dir, {
    first: 'ran\n',
    second: `ran\ncat ${join(dir, 'state', 'status')} > ${join(dir, 'seen')}\necho "Reading package lists..."\necho "apt-get update failed: mirror unreachable" >&2\necho\nexit 3\n`,
    third: 'ran\n',
  });
  const r = run(h);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `kubebake: step second failed: apt-get update failed: mirror unreachable (see ${join(dir, 'log', 'firstboot.log')})\n`);
  assert.equal(h.read('seen'), 'running: second\n', 'the status while the step runs');
  assert.equal(h.read('state/status'), 'failed: second: apt-get update failed: mirror unreachable\n');
  assert.equal(h.read('state/steps-done'), 'first\n');
  assert.equal(h.read('ran'), 'first\nsecond\n', 'the third step did not run');

  writeFileSync(join(dir, 'lib', 'second.sh'), 'ran\n');
  const again = run(h);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(h.read('ran'), 'first\nsecond\nsecond\nthird\n', 'resumed with the failed step; the first did not run again');
  assert.equal(h.read('state/status'), 'ok\n');
}));

test('steps run strict (-e, -u, pipefail), without the step list as their input', () => withTempDir((dir) => {
  // A step that reads its input would swallow the rest of the list if it were the runner's.
  const h = host(dir, { reads: 'ran\ncat > /dev/null\n', unset: 'ran\necho "$NOT_SET"\necho after\n', never: 'ran\n' });
  const r = run(h);
  assert.equal(r.status, 1);
  assert.equal(h.read('ran'), 'reads\nunset\n');
  assert.match(h.read('state/status'), /^failed: unset: .*NOT_SET: unbound variable\n$/);
  for (const [code, why] of [['false | cat\necho after\n', 'pipefail'], ['false\necho after\n', '-e']]) {
    writeFileSync(join(dir, 'lib', 'unset.sh'), code!);
    assert.equal(run(h).status, 1, why);
    assert.doesNotMatch(h.read('log/firstboot.log'), /^after$/m, why);
  }
}));

test('the reason is printable and at most 200 characters', () => withTempDir((dir) => {
  const h = host(dir, { long: `printf 'x\\033[1m%s\\tend\\n' "${'y'.repeat(300)}"\nexit 1\n` });
  assert.equal(run(h).status, 1);
  assert.equal(h.read('state/status'), `failed: long: x[1m${'y'.repeat(196)}\n`);
}));
