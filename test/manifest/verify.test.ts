// The render-time verification: real problems in generated output are errors that point at the
// topology line they come from, and nothing is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { verifyRender } from '../../src/verify/verify.js';
import { checkCloudConfig } from '../../src/verify/cloud-config.js';
import { positionDiagnostics } from '../../src/topology/load.js';
import { PROFILES, renderPlan } from '../helpers/cluster.js';
import { profile, repoPath } from '../helpers/repo.js';

for (const name of PROFILES) {
  test(`${name}: verifies clean`, async () => {
    assert.deepEqual(verifyRender(await renderPlan(profile(name))), []);
  });
}

test("cloud-init's schema, as compiled for kubebake's keys, still refuses what upstream refuses", () => {
  assert.deepEqual(checkCloudConfig({ hostname: 'a', runcmd: [['true']] }), []);
  assert.ok(checkCloudConfig({ hostname: 'a', runcmds: [['true']] }).some((p) => p.path === '/'), 'a misspelled top-level key');
  assert.ok(checkCloudConfig({ write_files: [{ path: '/x', content: 'y', permission: '0644' }] }).some((p) => p.path === '/write_files/0'), 'a misspelled write_files field');
  assert.ok(checkCloudConfig({ runcmd: 'reboot' }).length > 0, 'a wrong type');
});

test('a problem traced to a topology field is positioned at its line', async () => {
  const file = repoPath('profiles', 'default.yaml');
  const source = readFileSync(file, 'utf8');
  const [d] = positionDiagnostics(source, file, [{ severity: 'error', code: 'x', message: 'm', path: ['hosts', 3] }]);
  const line = source.split('\n')[d!.line! - 1]!;
  assert.match(line, /worker1/, `line ${d!.line}: ${line}`);
});
