// access.sshAuthorizedKeys: a line whose key sshd cannot read is a warning at its line:col. The
// key reader (src/topology/ssh-key.ts) is held to OpenSSH's own: for every line, real keys of each
// type ssh-keygen makes and broken ones, it finds a problem exactly when `ssh-keygen -l` refuses the
// line. And sshpk, which validate does not load, is shown to read the example line leniently.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sshpk from 'sshpk';
import { loadTopology } from '../../src/topology/load.js';
import { EXAMPLE_KEY_DATA, sshKeyProblem } from '../../src/topology/ssh-key.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, run } from '../helpers/tools.js';

const EXAMPLE = `ssh-ed25519 ${EXAMPLE_KEY_DATA} you@example`;

/** RFC 4251 string. */
const str = (b: Buffer | string): Buffer => {
  const bytes = Buffer.from(b);
  const n = Buffer.alloc(4);
  n.writeUInt32BE(bytes.length);
  return Buffer.concat([n, bytes]);
};
/** The strings of a key blob (as far as they go). */
function strings(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 4 <= blob.length; ) {
    const n = blob.readUInt32BE(at);
    out.push(blob.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
const line = (type: string, blob: Buffer, comment = 'x@y'): string => `${type} ${blob.toString('base64')} ${comment}`;

test('the reader finds a problem exactly where ssh-keygen -l refuses the line: real keys of every type, and broken ones', (t) => {
  const why = missingTools('ssh-keygen');
  if (why) return t.skip(why);
  withTempDir((dir) => {
    const made = (args: string[], name: string): string => {
      const r = run('ssh-keygen', ['-q', '-N', '', '-C', 'operator@example', '-f', join(dir, name), ...args]);
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
    };
    const ed = made(['-t', 'ed25519'], 'ed');
    const rsa = made(['-t', 'rsa', '-b', '2048'], 'rsa');
    const p256 = made(['-t', 'ecdsa', '-b', '256'], 'p256');
    const p384 = made(['-t', 'ecdsa', '-b', '384'], 'p384');
    const p521 = made(['-t', 'ecdsa', '-b', '521'], 'p521');
    const blob = (l: string): Buffer => Buffer.from(l.split(' ')[1]!, 'base64');
    const [, edKey] = strings(blob(ed));
    const [, , q256] = strings(blob(p256));
    // Security-key forms (openssh-portable PROTOCOL.u2f), made from the software keys' material.
    const skEd = line('sk-ssh-ed25519@openssh.com', Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(edKey!), str('ssh:')]));
    const skEc = line('sk-ecdsa-sha2-nistp256@openssh.com', Buffer.concat([str('sk-ecdsa-sha2-nistp256@openssh.com'), str('nistp256'), str(q256!), str('ssh:')]));
    const cases: [string, string][] = [
      ['ed25519', ed], ['rsa', rsa], ['ecdsa p256', p256], ['ecdsa p384', p384], ['ecdsa p521', p521], ['sk ed25519', skEd], ['sk ecdsa', skEc],
      ['the example key', EXAMPLE],
      ['cut short by 4 characters', `ssh-ed25519 ${ed.split(' ')[1]!.slice(0, -4)} x@y`],
      ['missing its last character', `ssh-ed25519 ${ed.split(' ')[1]!.slice(0, -1)} x@y`],
      ['labelled rsa, holding ed25519', `ssh-rsa ${ed.split(' ')[1]} x@y`],
      ['a 31-byte ed25519 key', line('ssh-ed25519', Buffer.concat([str('ssh-ed25519'), str(edKey!.subarray(1))]))],
      ['4 bytes after the key', line('ssh-ed25519', Buffer.concat([blob(ed), Buffer.from([0, 0, 0, 0])]))],
      ['a p256 key labelled p384', line('ecdsa-sha2-nistp384', Buffer.concat([str('ecdsa-sha2-nistp384'), str('nistp256'), str(q256!)]))],
      ['a compressed p256 point', line('ecdsa-sha2-nistp256', Buffer.concat([str('ecdsa-sha2-nistp256'), str('nistp256'), str(Buffer.concat([Buffer.from([2]), q256!.subarray(1, 33)]))]))],
      ['an sk ed25519 key without its application', line('sk-ssh-ed25519@openssh.com', Buffer.concat([str('sk-ssh-ed25519@openssh.com'), str(edKey!)]))],
    ];
    let refused = 0;
    for (const [name, l] of cases) {
      const file = join(dir, 'key.pub');
      writeFileSync(file, `${l}\n`);
      const keygen = run('ssh-keygen', ['-l', '-f', file]);
      const problem = sshKeyProblem(l);
      assert.equal(problem === undefined, keygen.status === 0, `${name}: kubebake says ${problem ?? 'a key'}; ssh-keygen -l says ${keygen.stdout}${keygen.stderr}`);
      if (problem) refused++;
    }
    assert.equal(refused, 9, 'every broken line is refused by both');
  });
});

test("sshpk's line parser reads the example key by borrowing the comment's letters; its blob reader refuses it, as ssh-keygen and kubebake do", () => {
  assert.doesNotThrow(() => sshpk.parseKey(EXAMPLE, 'ssh'));
  assert.throws(() => sshpk.parseKey(`ssh-ed25519 ${EXAMPLE_KEY_DATA} x`, 'ssh'), /length out of bounds/);
  assert.throws(() => sshpk.parseKey(Buffer.from(EXAMPLE_KEY_DATA, 'base64'), 'rfc4253'), /length out of bounds/);
  assert.match(sshKeyProblem(EXAMPLE) ?? '', /not whole base64 \(65 characters/);
});

test('every profile and the README example warn at the example key\'s line:col, and only there; a real key does not warn', () => {
  const readme = /```yaml\n([\s\S]*?)```/.exec(readFileSync(repoPath('README.md'), 'utf8'))![1]!;
  const sources: [string, string][] = [
    ...['default', 'seed', 'pxe', 'ubuntu-26-04-ha'].map((p): [string, string] => [`profiles/${p}.yaml`, readFileSync(repoPath('profiles', `${p}.yaml`), 'utf8')]),
    ['README.md', readme],
  ];
  for (const [file, text] of sources) {
    const warnings = loadTopology(text, file).diagnostics.filter((d) => d.code === 'ssh-key-unreadable');
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.includes(EXAMPLE_KEY_DATA));
    assert.ok(at >= 0, file);
    // The key's scalar starts there (at its opening quote when it is quoted).
    const start = lines[at]!.indexOf('ssh-ed25519') - (lines[at]!.includes('"ssh-ed25519') ? 1 : 0);
    assert.deepEqual(warnings.map((d) => [d.severity, d.line, d.col]), [['warning', at + 1, start + 1]], file);
    assert.match(warnings[0]!.message, /example key/);
    const real = text.replace(EXAMPLE_KEY_DATA, 'AAAAC3NzaC1lZDI1NTE5AAAAIEGcHMUvHXKQHL4NA1j0cWpsnLWRI9eTmD+Ccd3AgkBh');
    assert.deepEqual(loadTopology(real, file).diagnostics.filter((d) => d.code === 'ssh-key-unreadable'), [], `${file} with a real key`);
  }
});
