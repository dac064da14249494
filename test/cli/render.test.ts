// `kubebake render cloud-init` end to end, as an operator runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { missingTools } from '../helpers/tools.js';

const kubebake = (...args: string[]) => runKubebake(args);

function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), readFileSync(join(e.parentPath, e.name), 'utf8'));
  }
  return out;
}

const withOut = (fn: (out: string) => void) => () => {
  const out = mkdtempSync(join(tmpdir(), 'kubebake-out-'));
  try {
    fn(out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
};

test(
  'render twice gives byte-identical files; secrets are created once, 0600 in a 0700 folder, never printed',
  withOut((out) => {
    const first = kubebake('render', 'cloud-init', '-f', repoPath('profiles', 'seed.yaml'), '-o', out);
    assert.equal(first.status, 0, first.stderr);
    const a = snapshot(join(out, 'seed'));
    const second = kubebake('render', 'cloud-init', '-f', repoPath('profiles', 'seed.yaml'), '-o', out);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(snapshot(join(out, 'seed')), a);
    for (const host of ['k8s-master1', 'k8s-master2', 'k8s-worker1', 'k8s-worker2', 'haproxy']) {
      for (const f of ['user-data', 'meta-data', 'network-config']) assert.ok(a.has(`hosts/${host}/${f}`), `${host}/${f}`);
      assert.equal(statSync(join(out, 'seed', 'hosts', host, 'user-data')).mode & 0o777, 0o600);
    }
    assert.equal(statSync(join(out, 'seed', 'admin.conf')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'seed', 'secrets')).mode & 0o777, 0o700);
    for (const [path] of a) if (path.startsWith('secrets/')) assert.equal(statSync(join(out, 'seed', path)).mode & 0o777, 0o600, path);
    const token = a.get('secrets/token')!.trim();
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    for (const r of [first, second]) assert.ok(!(r.stdout + r.stderr).includes(token.split('.')[1]!), 'the token secret is never printed');
    for (const r of [first, second]) assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/);
  }),
);

test(
  '--rotate-token changes the token and only what carries it; the CA stays',
  withOut((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out).status, 0);
    const a = snapshot(join(out, 'seed'));
    const rotated = kubebake('render', 'cloud-init', '-f', seed, '-o', out, '--rotate-token');
    assert.equal(rotated.status, 0);
    const b = snapshot(join(out, 'seed'));
    // How to register the new token in a running cluster: run the printed command with stand-ins
    // for ssh (runs the remote command here), sudo (logs its command line, as sudo's log does) and
    // kubeadm (records its arguments). The token reaches kubeadm but not sudo's log.
    const command = /^  (ssh kubeadmin@10\.2\.47\.80 .*)$/m.exec(rotated.stderr)?.[1];
    assert.ok(command, rotated.stderr);
    const bin = join(out, 'bin');
    mkdirSync(bin);
    const stub = (name: string, body: string) => writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub('ssh', 'shift; exec /bin/sh -c "$1"');
    stub('sudo', `echo "COMMAND=$*" >> ${join(out, 'sudo.log')}; exec "$@"`);
    stub('kubeadm', `echo "$@" >> ${join(out, 'kubeadm.log')}`);
    const ran = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(ran.status, 0, ran.stderr);
    const token = readFileSync(join(out, 'seed', 'secrets', 'token'), 'utf8').trim();
    assert.equal(readFileSync(join(out, 'kubeadm.log'), 'utf8'), `token create ${token} --ttl 24h\n`);
    assert.ok(!readFileSync(join(out, 'sudo.log'), 'utf8').includes(token.split('.')[1]!), 'sudo logs no token');
    assert.ok(!(rotated.stdout + rotated.stderr).includes(b.get('secrets/token')!.trim()), 'the token is not printed');
    assert.notEqual(a.get('secrets/token'), b.get('secrets/token'));
    assert.equal(a.get('secrets/pki/ca.crt'), b.get('secrets/pki/ca.crt'));
    assert.equal(a.get('admin.conf'), b.get('admin.conf'));
    assert.equal(a.get('haproxy/haproxy.cfg'), b.get('haproxy/haproxy.cfg'));
    assert.notEqual(a.get('hosts/k8s-worker1/user-data'), b.get('hosts/k8s-worker1/user-data'));
  }),
);

test(
  'a damaged secrets folder is a clear error, not new secrets',
  withOut((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out).status, 0);
    unlinkSync(join(out, 'seed', 'secrets', 'pki', 'ca.key'));
    const before = snapshot(join(out, 'seed'));
    const r = kubebake('render', 'cloud-init', '-f', seed, '-o', out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ca\.key/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(snapshot(join(out, 'seed')), before, 'nothing written');
  }),
);

test(
  'a file edited by hand is not replaced without --force; invalid input writes nothing',
  withOut((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out).status, 0);
    const cfg = join(out, 'seed', 'haproxy', 'haproxy.cfg');
    appendFileSync(cfg, '# my tweak\n');
    const r = kubebake('render', 'cloud-init', '-f', seed, '-o', out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /haproxy\.cfg was edited since kubebake wrote it/);
    assert.match(readFileSync(cfg, 'utf8'), /# my tweak/);
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out, '--force').status, 0);
    assert.doesNotMatch(readFileSync(cfg, 'utf8'), /# my tweak/);

    const bad = join(out, 'bad.yaml');
    writeFileSync(bad, readFileSync(seed, 'utf8').replace('10.2.47.83', '10.9.9.9'));
    const other = join(out, 'other');
    const rb = kubebake('render', 'cloud-init', '-f', bad, '-o', other);
    assert.equal(rb.status, 1);
    assert.match(rb.stderr, /bad\.yaml:\d+:\d+/);
    assert.throws(() => statSync(other), 'no output folder for invalid input');
  }),
);

test(
  '--check renders in memory and writes nothing',
  withOut((out) => {
    const r = kubebake('render', 'cloud-init', '-f', repoPath('profiles', 'default.yaml'), '-o', out, '--check');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(out), []);
  }),
);

test(
  "the README's cidata ISO recipe gives a NoCloud seed that xorriso reads back: volume cidata, the three files, same bytes",
  { skip: missingTools('xorriso') },
  withOut((out) => {
    const r = kubebake('render', 'cloud-init', '-f', repoPath('profiles', 'default.yaml'), '-o', out);
    assert.equal(r.status, 0, r.stderr);
    const readme = readFileSync(repoPath('README.md'), 'utf8');
    const recipe = /```sh\n(cd out\/default\/hosts\/cp1\nxorriso [^\n]+)\n```/.exec(readme)?.[1];
    assert.ok(recipe, 'README.md shows the xorriso recipe');
    const made = spawnSync('sh', ['-c', recipe.replace('cd out/', `cd ${out}/`)], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const iso = join(out, 'default', 'cp1-cidata.iso');
    const pvd = spawnSync('xorriso', ['-indev', iso, '-pvd_info'], { encoding: 'utf8' });
    assert.match(pvd.stdout, /^Volume Id\s*:\s*cidata$/m);
    const back = mkdtempSync(join(tmpdir(), 'kubebake-iso-'));
    try {
      const x = spawnSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', back], { encoding: 'utf8' });
      assert.equal(x.status, 0, x.stderr);
      assert.deepEqual(readdirSync(back).sort(), ['meta-data', 'network-config', 'user-data']);
      for (const f of ['user-data', 'meta-data', 'network-config']) {
        assert.equal(readFileSync(join(back, f), 'utf8'), readFileSync(join(out, 'default', 'hosts', 'cp1', f), 'utf8'), f);
      }
    } finally {
      rmSync(back, { recursive: true, force: true });
    }
  }),
);

test(
  '--check reads the stored secrets without writing, fails on a damaged store and on hand edits, as a render would',
  withOut((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out).status, 0);
    const before = snapshot(join(out, 'seed'));
    const ok = kubebake('render', 'cloud-init', '-f', seed, '-o', out, '--check');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /\(0 would be written\)/, 'with the stored secrets nothing differs');
    appendFileSync(join(out, 'seed', 'haproxy', 'haproxy.cfg'), '# mine\n');
    const edited = kubebake('render', 'cloud-init', '-f', seed, '-o', out, '--check');
    assert.equal(edited.status, 1);
    assert.match(edited.stderr, /haproxy\.cfg was edited since kubebake wrote it/);
    writeFileSync(join(out, 'seed', 'secrets', 'pki', 'ca.key'), 'not a key\n');
    const damaged = kubebake('render', 'cloud-init', '-f', seed, '-o', out, '--check');
    assert.equal(damaged.status, 1);
    assert.match(damaged.stderr, /ca\.key is not a PEM private key/);
    const after = snapshot(join(out, 'seed'));
    after.delete('secrets/pki/ca.key');
    before.delete('secrets/pki/ca.key');
    before.set('haproxy/haproxy.cfg', before.get('haproxy/haproxy.cfg') + '# mine\n');
    assert.deepEqual(after, before, '--check wrote nothing');
  }),
);

test(
  '--rotate-token whose render fails keeps the old token; a plain render afterwards spreads nothing new',
  withOut((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out).status, 0);
    const token = readFileSync(join(out, 'seed', 'secrets', 'token'), 'utf8');
    appendFileSync(join(out, 'seed', 'hosts', 'k8s-worker1', 'network-config'), '# mine\n');
    const r = kubebake('render', 'cloud-init', '-f', seed, '-o', out, '--rotate-token');
    assert.equal(r.status, 1);
    assert.doesNotMatch(r.stderr, /new bootstrap token/);
    assert.equal(readFileSync(join(out, 'seed', 'secrets', 'token'), 'utf8'), token, 'the token did not change');
    assert.deepEqual(readdirSync(join(out, 'seed', 'secrets')).sort(), ['identity.json', 'pki', 'report.secret', 'token'], 'no staged file left behind');
  }),
);

test(
  'a second site reusing the cluster name in the same output is refused with the fix, and gets nothing of the first',
  withOut((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(kubebake('render', 'cloud-init', '-f', seed, '-o', out).status, 0);
    const other = join(out, 'site-b.yaml');
    writeFileSync(other, readFileSync(seed, 'utf8').replaceAll('10.2.47.', '10.3.47.'));
    const before = snapshot(join(out, 'seed'));
    const r = kubebake('render', 'cloud-init', '-f', other, '-o', out);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /belong to cluster "seed" \(apiEndpoint 10\.2\.47\.84:6443, nodeSubnet 10\.2\.47\.0\/24\), not to this topology's/);
    assert.match(r.stderr, /give it its own output folder \(-o\)/);
    assert.deepEqual(snapshot(join(out, 'seed')), before);
    assert.equal(kubebake('render', 'cloud-init', '-f', other, '-o', join(out, 'site-b')).status, 0, 'its own folder works');
  }),
);
