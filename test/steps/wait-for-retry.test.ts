// wait_for and retry (src/steps/sh/wait_for.sh, retry.sh), sourced from their files and run by
// bash with `sleep` recording its argument (and advancing SECONDS by it) instead of sleeping:
// wait_for's back-off, doubling from 2 s and capped at 30 s, and the budget that ends the wait;
// retry's ten tries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { repoPath } from '../helpers/repo.js';

/** Sources src/steps/sh/NAME.sh and runs `call` with a probe that fails `failures` times. */
function run(name: string, failures: number, call: string): { status: number | null; sleeps: number[]; stderr: string } {
  const script = `set -euo pipefail
. "$1"
sleep() { echo "$1" >&3; SECONDS=$((SECONDS + $1)); }
n=0
probe() { n=$((n + 1)); [ "$n" -gt ${failures} ]; }
${call}`;
  const r = spawnSync('bash', ['-c', `exec 3>&1 1>/dev/null; ${script}`, '-', repoPath('src', 'steps', 'sh', `${name}.sh`)], { encoding: 'utf8' });
  return { status: r.status, sleeps: r.stdout.trim().split('\n').filter(Boolean).map(Number), stderr: r.stderr };
}
const waitFor = (budget: number, failures: number) => run('wait_for', failures, `wait_for ${budget} "the probe" probe`);

test('wait_for backs off 2, 4, 8, 16 s, then 30 s each time, never more', () => {
  const r = waitFor(10_000, 8);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.sleeps, [2, 4, 8, 16, 30, 30, 30, 30]);
});

test('wait_for gives up once the budget is spent, naming what it waited for', () => {
  const r = waitFor(60, 1000);
  assert.equal(r.status, 1);
  assert.deepEqual(r.sleeps, [2, 4, 8, 16, 30]);
  assert.equal(r.stderr.trim(), 'timed out after 60s waiting for the probe');
});

test('retry tries ten times, 5 s more between each, saying so, then fails', () => {
  const r = run('retry', 1000, 'retry probe --flag');
  assert.equal(r.status, 1);
  assert.deepEqual(r.sleeps, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  assert.deepEqual(r.stderr.trim().split('\n'), Array.from({ length: 10 }, (_, i) => `retrying (${i + 1}): probe --flag`));
});

test('retry stops at the first success', () => {
  const r = run('retry', 2, 'retry probe');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.sleeps, [5, 10]);
});
