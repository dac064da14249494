// Values echoed from the input reach a terminal: controls are escaped, key material never shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostics } from '../../src/diagnostics/print.js';
import { loadTopology } from '../../src/topology/load.js';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';

const seed = readFileSync(repoPath('profiles', 'seed.yaml'), 'utf8');
// A real-looking OpenSSH private key body (random bytes, protects nothing).
const KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACBqUfHqTz0Ol6k4mI5mC1dT0lEcYn0j0gQb9zPZ3dZ7pQAAAJgXq1Q3F6tU',
  '-----END OPENSSH PRIVATE KEY-----',
];

test('terminal control characters from override reasons and unknown keys are printed escaped', () => {
  const reason = seed.replace(/reason: .*/, 'reason: "two masters \\e[2J\\e]0;pwned\\a as the how-to had"');
  const unknown = seed + '"x\\e[31my": 1\n';
  for (const text of [reason, unknown]) {
    const printed = formatDiagnostics(loadTopology(text, 'evil.yaml').diagnostics, text);
    assert.doesNotMatch(printed, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no raw control character');
    if (text === reason) assert.match(printed, /two masters \\x1b\[2J\\x1b\]0;pwned\\x07 as the how-to had/);
    else assert.match(printed, /unknown field "x\\x1b\[31my"/);
  }
});

test('a private key pasted into the wrong field is not echoed, in text or JSON', async () => {
  const text = seed.replace(/sshAuthorizedKeys:\n(\s+)- .*/, (_m, ind: string) => `sshAuthorizedKeys:\n${ind}- |\n${KEY.map((l) => `${ind}  ${l}`).join('\n')}`);
  assert.notEqual(text, seed);
  const r = loadTopology(text, 'key.yaml');
  const printed = formatDiagnostics(r.diagnostics, text);
  assert.ok(r.diagnostics.some((d) => d.severity === 'error'), printed);
  assert.doesNotMatch(printed, /PRIVATE KEY|b3BlbnNzaC1rZXkt|QyNTUxOQ/);
  assert.match(printed, /not shown: it looks like private key material/);
  await withTempDir((dir) => {
    const file = join(dir, 'key.yaml');
    writeFileSync(file, text);
    const json = runKubebake(['validate', '-f', file, '--json']);
    assert.equal(json.status, 1);
    assert.doesNotMatch(json.stdout + json.stderr, /PRIVATE KEY|b3BlbnNzaC1rZXkt|QyNTUxOQ/);
  });
});
