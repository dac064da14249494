// UPDATE_GOLDEN rewrites the goldens before they are compared, so a run with it cannot fail:
// under CI it is refused, and the golden tests fail instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { updatingGoldens } from '../helpers/golden.js';
import { fromRoot } from '../helpers/paths.js';

test('UPDATE_GOLDEN=1 rewrites goldens locally; under CI any UPDATE_GOLDEN is an error', () => {
  assert.equal(updatingGoldens({}), false);
  assert.equal(updatingGoldens({ UPDATE_GOLDEN: '1' }), true);
  assert.equal(updatingGoldens({ UPDATE_GOLDEN: '1', CI: 'false' }), true);
  assert.equal(updatingGoldens({ CI: 'true' }), false, 'CI alone compares as usual');
  for (const CI of ['true', 'TRUE', '1']) {
    for (const UPDATE_GOLDEN of ['1', 'true', '0']) {
      assert.throws(() => updatingGoldens({ CI, UPDATE_GOLDEN }), /goldens are regenerated only locally/, `CI=${CI} UPDATE_GOLDEN=${UPDATE_GOLDEN}`);
    }
  }
});

test('a golden test run with CI=true UPDATE_GOLDEN=1 fails, and leaves its golden as it was', () => {
  const name = 'tab-indent';
  const golden = fromRoot('test', 'bad', `${name}.expected`);
  const before = readFileSync(golden, 'utf8');
  // The child is a test run of its own, not a part of this one (NODE_TEST_CONTEXT would make it report to us).
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const r = spawnSync(process.execPath, ['--test', `--test-name-pattern=bad/${name}\\.yaml`, fromRoot('dist', 'test', 'topology', 'bad-corpus.test.js')], {
    encoding: 'utf8',
    env: { ...env, CI: 'true', UPDATE_GOLDEN: '1' },
  });
  assert.notEqual(r.status, 0, `the golden test passed under CI with UPDATE_GOLDEN=1:\n${r.stdout}`);
  assert.match(r.stdout + r.stderr, /goldens are regenerated only locally/);
  assert.equal(readFileSync(golden, 'utf8'), before);
});
