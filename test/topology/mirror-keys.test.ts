// Mirror signing keys (mirrors.*.key and keyFile) are read as OpenPGP when the topology is read:
// anything that is not a public key is an error at its field, and what reaches a host is the key
// openpgp armours again, never the topology's text. The here-documents that carry keys and
// files end on a terminator no line of their content equals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { heredoc } from '../../src/steps/shell.js';
import { aptSource } from '../../src/steps/crio.js';
import { sourcesStep } from '../../src/steps/sources.js';
import { readTopology } from '../../src/topology/load.js';
import { renderPlan } from '../helpers/cluster.js';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, run } from '../helpers/tools.js';

const PUBLIC = readFileSync(repoPath('test', 'fixtures', 'openpgp', 'mirror-key.pub.asc'), 'utf8');
const PRIVATE = readFileSync(repoPath('test', 'fixtures', 'openpgp', 'mirror-key.sec.asc'), 'utf8');
const AIRGAP = readFileSync(repoPath('profiles', 'airgap.yaml'), 'utf8');

/** The issue's key: its text ends the here-document and runs commands as root. */
const INJECTION = '-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBGMHoXcBEADlNF\nEOF_KEY\nid > owned.txt; echo injected-as-root\ncat > /dev/null <<\'EOF_KEY\'\n-----END PGP PUBLIC KEY BLOCK-----\n';

/** The airgap profile with `key` (a block scalar) on one mirror, or with `keyFile`. */
function withKey(mirror: 'kubernetes' | 'crio' | 'os', field: { key: string } | { keyFile: string }): string {
  const value = 'key' in field ? `\n    key: |\n${field.key.trimEnd().split('\n').map((l) => (l ? `      ${l}` : '')).join('\n')}` : `\n    keyFile: ${field.keyFile}`;
  return AIRGAP.replace(new RegExp(`^  ${mirror}: \\{ url: ("[^"]+") \\}$`, 'm'), `  ${mirror}:\n    url: $1${value}`);
}

/** gpg's reading of a key: fingerprint and user id lines (what apt's gpgv would trust). */
function gpgShow(dir: string, armored: string): string {
  const file = join(dir, `k${Math.random().toString(36).slice(2)}.asc`);
  writeFileSync(file, armored);
  const r = run('gpg', ['--homedir', dir, '--batch', '--with-colons', '--show-keys', file]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => /^(pub|fpr|uid):/.test(l)).map((l) => l.split(':').slice(0, 10).join(':')).join('\n');
}

test('a mirror key is read as OpenPGP and written as openpgp armours it: the same key for gpg, none of the topology\'s text', { skip: missingTools('gpg') }, async () => {
  await withTempDir(async (dir) => {
    // A real key with text slipped into its armour: a terminator line and a command.
    const tampered = PUBLIC.replace('\n-----END', '\nEOF_KEY\necho injected-as-root\n-----END');
    for (const [mirror, key] of [['kubernetes', PUBLIC], ['crio', tampered], ['os', tampered]] as const) {
      writeFileSync(join(dir, 'c.yaml'), withKey(mirror, { key }));
      const loaded = await readTopology(join(dir, 'c.yaml'));
      assert.ok(loaded.topology, JSON.stringify(loaded.diagnostics));
      const armored = loaded.topology.mirrors![mirror]!.key!;
      assert.match(armored, /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n[A-Za-z0-9+/=\n]+\n-----END PGP PUBLIC KEY BLOCK-----\n$/);
      assert.equal(gpgShow(dir, armored), gpgShow(dir, PUBLIC), `${mirror}: gpg reads the same key`);
      const plan = await renderPlan(loaded.topology);
      const script = mirror === 'os' ? sourcesStep(plan)!.body : mirror === 'kubernetes' ? aptSource('kubernetes', plan.kubernetes.aptRepo, plan.kubernetes.aptKey) : aptSource('cri-o', plan.crio.aptRepo, plan.crio.aptKey);
      assert.ok(script.includes(armored.trimEnd()), `${mirror}: the script carries the re-armoured key`);
      assert.doesNotMatch(script, /injected-as-root/);
    }
  });
});

test('a mirror key that is no public key is an error at its field: the issue\'s injection, a private key, two blocks, garbage; inline and in keyFile', async () => {
  const relabelled = PRIVATE.replace(/PRIVATE KEY BLOCK/g, 'PUBLIC KEY BLOCK');
  const cases: [string, string, RegExp][] = [
    ['injection', INJECTION, /it is not readable as OpenPGP/],
    ['private key labelled public', relabelled, /it is a private key: give the public key/],
    ['two blocks', PUBLIC + PUBLIC, /it is 2 armoured blocks, not one/],
    ['garbage', '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PUBLIC KEY BLOCK-----\n', /it is not readable as OpenPGP/],
  ];
  await withTempDir(async (dir) => {
    for (const [what, key, why] of cases) {
      for (const form of ['key', 'keyFile'] as const) {
        writeFileSync(join(dir, 'k.asc'), key);
        const text = withKey('kubernetes', form === 'key' ? { key } : { keyFile: 'k.asc' });
        writeFileSync(join(dir, 'c.yaml'), text);
        const loaded = await readTopology(join(dir, 'c.yaml'));
        assert.equal(loaded.topology, undefined, `${what} (${form}) was accepted`);
        const d = loaded.diagnostics.find((x) => x.code === 'mirrors.key');
        assert.ok(d, `${what} (${form}): ${JSON.stringify(loaded.diagnostics)}`);
        assert.deepEqual(d.path, ['mirrors', 'kubernetes', form]);
        assert.match(d.message, why);
        const line = text.split('\n').findIndex((l) => l.trimStart().startsWith(`${form}:`)) + 1;
        assert.equal(d.line, line, `${what} (${form}) at its line`);
        assert.equal(d.col, text.split('\n')[line - 1]!.indexOf(form === 'key' ? '|' : 'k.asc') + 1);
      }
    }
    // And `kubebake validate` says so (exit 1), for the issue's key.
    writeFileSync(join(dir, 'c.yaml'), withKey('kubernetes', { key: INJECTION }));
    const r = runKubebake(['validate', '-f', join(dir, 'c.yaml')]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /error\[mirrors\.kubernetes\.key\]: mirrors\.kubernetes\.key is no OpenPGP public key/);
  });
});

test('heredoc(): a content line equal to the terminator moves the terminator; bash reproduces the content exactly and runs none of it', () => {
  const contents = [
    'plain\n',
    'EOF_KUBEBAKE\necho ran-1\n',
    'x\nEOF_KUBEBAKE\nEOF_KUBEBAKE_1\necho ran-2\nEOF_KUBEBAKE_2 \n',
    "$(echo ran-3) `echo ran-4` ${HOME} \\\n'quoted' \"double\"\n",
    'no final newline',
    '\n\nEOF_KEY\n',
  ];
  for (const content of contents) {
    for (const tag of ['EOF_KUBEBAKE', 'EOF_KEY']) {
      const r = run('bash', ['-c', `set -eu\n${heredoc('cat', content, tag)}`]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, content.endsWith('\n') ? content : `${content}\n`, JSON.stringify(content));
    }
  }
  assert.throws(() => heredoc('cat', 'a\u0000b'), /NUL/);
});

const rootSkip = process.getuid?.() !== 0 ? 'needs root (a private mount namespace)' : missingTools('unshare');

test('a key that never went through readTopology (an API caller\'s Topology) still cannot end its here-document: the script writes it verbatim and runs nothing else', { skip: rootSkip }, async () => {
  await withTempDir((dir) => {
    const script = join(dir, 'source.sh');
    writeFileSync(script, aptSource('mirror', 'http://mirror.lab.example/k8s/', INJECTION));
    // /etc/apt is a tmpfs of a private mount namespace: the machine's own stays untouched.
    const inner = 'mount -t tmpfs tmpfs /etc/apt && mkdir -p /etc/apt/keyrings /etc/apt/sources.list.d && cd "$1" && bash -euo pipefail "$2" && cat /etc/apt/keyrings/mirror-apt-keyring.asc';
    const r = run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', inner, 'sh', dir, script]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, INJECTION, 'the keyring holds the text, and nothing ran');
    assert.doesNotMatch(r.stdout + r.stderr, /^injected-as-root$/m);
  });
});

test('mirrors.os.key with an EOF_KUBEBAKE line inside its armour renders (it stopped render with exit 70)', { skip: missingTools('shellcheck') }, async () => {
  await withTempDir((dir) => {
    writeFileSync(join(dir, 'c.yaml'), withKey('os', { key: PUBLIC.replace(/\n=/, '\nEOF_KUBEBAKE\n=') }));
    const r = runKubebake(['render', 'cloud-init', '-f', join(dir, 'c.yaml'), '-o', join(dir, 'out'), '--delivery', 'none']);
    assert.equal(r.status, 0, r.stderr);
    const userData = readFileSync(join(dir, 'out', 'airgap', 'hosts', 'cp1', 'user-data'), 'utf8');
    assert.ok(userData.includes('kubebake-os-apt-keyring.asc'), 'the sources step writes the key');
    assert.doesNotMatch(userData, /^\s*EOF_KUBEBAKE\\n=/m);
  });
});
