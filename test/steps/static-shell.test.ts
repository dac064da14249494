// The static shell's files (src/steps/sh/*.sh): shellcheck reads each as a file, as an editor
// would; the build embedded them as they are; and the one way values get in (template.ts) fills
// every placeholder, uses every value and refuses a value that would need quoting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { SH_FILES } from '../../src/steps/sh/embedded.generated.js';
import { fillPlaceholders, shippedPart } from '../../src/steps/sh/template.js';
import { repoPath } from '../helpers/repo.js';
import { missingTools, run } from '../helpers/tools.js';

const DIR = repoPath('src', 'steps', 'sh');
const files = readdirSync(DIR).filter((f) => f.endsWith('.sh')).sort();

test('every .sh file of src/steps/sh passes shellcheck -S warning on its own (the shell named by its own directive)', { skip: missingTools('shellcheck') }, () => {
  assert.ok(files.length >= 8, files.join(' '));
  // No -s bash: each file must say which shell it is, as it does for an editor's shellcheck.
  const r = run('shellcheck', ['-S', 'warning', ...files], { cwd: DIR });
  assert.equal(r.stdout + r.stderr, '');
  assert.equal(r.status, 0);
});

test('the build embedded every .sh file as it is now (else run `npm run build`)', () => {
  assert.deepEqual(Object.keys(SH_FILES).sort(), files);
  for (const f of files) assert.equal(SH_FILES[f as keyof typeof SH_FILES], readFileSync(`${DIR}/${f}`, 'utf8'), `${f} changed since the build: run npm run build`);
});

test('what ships of a file is what follows its header and blank line, without the final newline', () => {
  assert.equal(shippedPart('t.sh', '# shellcheck shell=bash\n# what it does\n\nf() {\n  :\n}\n\necho\n'), 'f() {\n  :\n}\n\necho');
  for (const [bad, why] of [
    ['f() { :; }\n', 'no header'],
    ['# shellcheck shell=bash\nf() { :; }\n\necho\n', 'code in the header'],
    ['# what it does\n\necho\n', 'no shell directive'],
    ['# shellcheck shell=bash\n\necho', 'no final newline'],
    ['# shellcheck shell=bash\n\necho\n\n', 'a trailing blank line'],
  ]) assert.throws(() => shippedPart('t.sh', bad!), /t\.sh: /, why);
});

test('placeholders: each filled once, in one pass; a missing or unused value, a malformed placeholder or a value needing quotes is refused', () => {
  assert.equal(fillPlaceholders('t.sh', 'a=@@A@@ "@@B@@/$x" @@A@@', { A: '/etc/x', B: 20 }), 'a=/etc/x "20/$x" /etc/x');
  // A value that looks like a placeholder is not substituted again.
  assert.equal(fillPlaceholders('t.sh', '@@A@@ @@B@@', { A: '@@B@@', B: 'b' }), '@@B@@ b');
  assert.throws(() => fillPlaceholders('t.sh', 'a=@@A@@ @@B@@', { A: 'x' }), /t\.sh: no value for @@B@@/);
  assert.throws(() => fillPlaceholders('t.sh', 'a=@@A@@', { A: 'x', C: 'y' }), /t\.sh: no placeholder for C/);
  assert.throws(() => fillPlaceholders('t.sh', 'a=@@a@@', {}), /not of the form @@NAME@@/);
  for (const unsafe of ['two words', '$(reboot)', "it's", '"x"', 'a;b', '', 'x\ny', '`id`', '*']) {
    assert.throws(() => fillPlaceholders('t.sh', 'a=@@A@@', { A: unsafe }), /needs quoting/, JSON.stringify(unsafe));
  }
});
