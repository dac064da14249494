// wait_for's back-off, run by bash: doubling from 2 s and capped at 30 s (never above it), and
// the budget that ends the wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { WAIT_FOR } from '../../src/steps/helpers.js';

/** Runs wait_for with `sleep` recording its argument (and advancing SECONDS by it) instead of sleeping. */
function waitFor(budget: number, failures: number): { status: number | null; sleeps: number[]; stderr: string } {
  const script = `set -euo pipefail
${WAIT_FOR.code}
sleep() { echo "$1" >&3; SECONDS=$((SECONDS + $1)); }
n=0
probe() { n=$((n + 1)); [ "$n" -gt ${failures} ]; }
wait_for ${budget} "the probe" probe`;
  const r = spawnSync('bash', ['-c', `exec 3>&1 1>/dev/null; ${script}`], { encoding: 'utf8' });
  return { status: r.status, sleeps: r.stdout.trim().split('\n').filter(Boolean).map(Number), stderr: r.stderr };
}

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
