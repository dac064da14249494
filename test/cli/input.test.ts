// Reading the topology: from standard input with -f -, and text that is not UTF-8.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';

const seed = readFileSync(repoPath('profiles', 'seed.yaml'));

test('-f - reads the topology from standard input; errors name <stdin>', () => {
  const ok = spawnSync(process.execPath, [repoPath('bin', 'kubebake.js'), 'validate', '-f', '-'], { input: seed, encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /valid cluster "seed"/);
  const bad = spawnSync(process.execPath, [repoPath('bin', 'kubebake.js'), 'validate', '-f', '-'], { input: seed.toString().replace('10.2.47.83', '10.9.9.9'), encoding: 'utf8' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--> <stdin>:\d+:\d+/);
});

test('a topology that is not UTF-8 gets a message that says so', async () => {
  await withTempDir((dir) => {
    const latin1 = join(dir, 'latin1.yaml');
    const text = seed.toString().replace('operator@example', 'op\u00e9rateur@example');
    writeFileSync(latin1, Buffer.from(text, 'latin1'));
    const r = runKubebake(['validate', '-f', latin1]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`the topology is not UTF-8 text \\(the byte at offset ${Buffer.from(text, 'latin1').indexOf(0xe9)} cannot be decoded\\)`));
    assert.match(r.stderr, /hint: save the file as UTF-8/);
    const utf16 = join(dir, 'utf16.yaml');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(seed.toString(), 'utf16le')]));
    const u = runKubebake(['validate', '-f', utf16]);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /the topology is UTF-16 text; kubebake reads UTF-8/);
  });
});
