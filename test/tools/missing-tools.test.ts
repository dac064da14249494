// On a machine without a validator, tests are skipped with the tool named; under CI they fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { missingTools } from '../helpers/tools.js';

const NONE = 'kubebake-no-such-validator';

test('a missing tool that cannot be installed is named in the skip reason, with the package to install', () => {
  const saved = process.env.CI;
  delete process.env.CI;
  try {
    assert.equal(missingTools('sh'), undefined);
    assert.equal(missingTools('sh', NONE), `${NONE} not installed (apt-get install ${NONE})`);
  } finally {
    if (saved !== undefined) process.env.CI = saved;
  }
});

test('under CI (CI=true, as .ci/run runs) a missing tool is an error, not a skip', () => {
  const saved = process.env.CI;
  process.env.CI = 'true';
  try {
    assert.throws(() => missingTools(NONE), new RegExp(`${NONE} not installed .*under CI every tool must be installed`));
  } finally {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  }
});
