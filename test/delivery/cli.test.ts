// `kubebake render cloud-init --delivery …` as an operator runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';

const files = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();

test('default: every form, the README, and one size line per host on stdout; no host is over a limit', () =>
  withTempDir((out) => {
    const r = runKubebake(['render', 'cloud-init', '-f', repoPath('profiles', 'default.yaml'), '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const written = files(join(out, 'default'));
    for (const f of ['README.md', 'seeds.tar', 'hosts/cp1/seed.iso', 'hosts/cp1/seed.tar', 'vsphere/cp1.vmx', 'vsphere/cp1.govc.sh', 'proxmox/cp1.qm.sh', 'proxmox/snippets/default-cp1-user-data.yaml', 'hosts/cp1/user-data.gz', 'libvirt/cp1.virt-install.sh']) {
      assert.ok(written.includes(f), f);
    }
    for (const host of ['cp1', 'cp2', 'cp3', 'worker1', 'worker2', 'lb1']) assert.match(r.stdout, new RegExp(`^  ${host}: user-data \\d+\\.\\d KiB \\(gzip \\d+\\.\\d KiB\\)`, 'm'));
    assert.ok(!written.some((f) => /vendor-data/.test(f)), 'no vendor-data: the user-data is complete');
    // Every host fits every platform at least as user-data.gz: no warning. The wording: test/delivery/sizes.test.ts.
    assert.doesNotMatch(r.stderr, /is over/);
    // The profile's SSH key is kubebake's example: the render warns at its line:col and goes on.
    const profile = readFileSync(repoPath('profiles', 'default.yaml'), 'utf8').split('\n');
    const at = profile.findIndex((l) => l.includes('KubebakeExampleKey'));
    assert.match(r.stderr, new RegExp(`^warning\\[access\\.sshAuthorizedKeys\\[0\\]\\]: this is kubebake's example key.*\\n  --> .*default\\.yaml:${at + 1}:${profile[at]!.indexOf('ssh-ed25519') + 1}$`, 'm'));
    assert.equal(statSync(join(out, 'default', 'hosts', 'cp1', 'seed.iso')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'default', 'vsphere', 'cp1.govc.sh')).mode & 0o777, 0o700);
  }));

test('--delivery iso writes only the ISOs besides the NoCloud files; switching forms removes the others', () =>
  withTempDir((out) => {
    const seed = repoPath('profiles', 'seed.yaml');
    assert.equal(runKubebake(['render', 'cloud-init', '-f', seed, '-o', out]).status, 0);
    const r = runKubebake(['render', 'cloud-init', '-f', seed, '-o', out, '--delivery', 'iso']);
    assert.equal(r.status, 0, r.stderr);
    const written = files(join(out, 'seed'));
    assert.ok(written.includes('hosts/k8s-master1/seed.iso'));
    assert.deepEqual(written.filter((f) => /^(vsphere|proxmox|libvirt)\/|\.tar$/.test(f)), []);
    assert.ok(existsSync(join(out, 'seed', 'README.md')));
    const none = runKubebake(['render', 'cloud-init', '-f', seed, '-o', out, '--delivery', 'none']);
    assert.equal(none.status, 0, none.stderr);
    assert.deepEqual(files(join(out, 'seed')).filter((f) => f.endsWith('.iso')), []);
  }));

/** The delivery form of an output path, as README.md's layout lists them (not src/render/delivery/forms.ts). */
const formOf = (path: string): string | undefined =>
  /^hosts\/[^/]+\/user-data\.gz$/.test(path) ? 'gzip' : /^hosts\/[^/]+\/seed\.iso$/.test(path) ? 'iso' : /^(hosts\/[^/]+\/seed|seeds)\.tar$/.test(path) ? 'tar' : /^(vsphere|proxmox|libvirt|pxe)\//.exec(path)?.[1];

test('--delivery iso over a render of every form says which forms\' files it removes and how many, and how to keep them; the last line points at the README', () =>
  withTempDir((out) => {
    const topology = repoPath('profiles', 'pxe.yaml');
    // -o as an operator types it: relative to the working folder; the README path comes back as given.
    const o = relative(process.cwd(), out);
    const all = runKubebake(['render', 'cloud-init', '-f', topology, '-o', o]);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stdout.trimEnd().split('\n').at(-1), `next: read ${join(o, 'metal', 'README.md')} (boot order, what to attach where, day-2 commands)`);
    assert.doesNotMatch(all.stderr, /note: /);
    const before = files(join(out, 'metal'));
    const others = new Map<string, number>();
    for (const f of before) {
      const form = formOf(f);
      if (form && form !== 'iso') others.set(form, (others.get(form) ?? 0) + 1);
    }
    assert.deepEqual([...others.keys()].sort(), ['gzip', 'libvirt', 'proxmox', 'pxe', 'tar', 'vsphere'], 'every other form was written');
    const total = [...others.values()].reduce((a, b) => a + b, 0);
    const listed = ['gzip', 'tar', 'vsphere', 'proxmox', 'libvirt', 'pxe'].map((f) => `${f}: ${others.get(f)}`).join(', ');

    const check = runKubebake(['render', 'cloud-init', '-f', topology, '-o', o, '--delivery', 'iso', '--check']);
    assert.equal(check.status, 0, check.stderr);
    assert.ok(check.stderr.includes(`note: would remove ${total} files of delivery forms --delivery iso leaves out (${listed}); render with --delivery all (the default) to keep every form\n`), check.stderr);
    assert.deepEqual(files(join(out, 'metal')), before, '--check changes nothing');

    const iso = runKubebake(['render', 'cloud-init', '-f', topology, '-o', o, '--delivery', 'iso']);
    assert.equal(iso.status, 0, iso.stderr);
    assert.ok(iso.stderr.includes(`note: removed ${total} files of delivery forms --delivery iso leaves out (${listed}); render with --delivery all (the default) to keep every form\n`), iso.stderr);
    const after = files(join(out, 'metal'));
    assert.equal(before.length - after.length, total, 'the note counts what left the disk');
    assert.deepEqual(after.filter((f) => formOf(f) && formOf(f) !== 'iso'), []);
    const last = iso.stdout.trimEnd().split('\n').at(-1)!;
    assert.equal(last, `next: read ${join(o, 'metal', 'README.md')} (boot order, what to attach where, day-2 commands)`);
    assert.ok(existsSync(join(out, 'metal', 'README.md')));

    const again = runKubebake(['render', 'cloud-init', '-f', topology, '-o', o, '--delivery', 'iso']);
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /note: /, 'nothing of another form left to remove');
  }));

test('--delivery with an unknown form is a usage error (exit 2) naming the forms, and writes nothing', () =>
  withTempDir((out) => {
    const r = runKubebake(['render', 'cloud-init', '-f', repoPath('profiles', 'seed.yaml'), '-o', out, '--delivery', 'iso,floppy']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown delivery form floppy: use all, none, or a list of gzip, iso, tar, vsphere, proxmox, libvirt, pxe/);
    assert.deepEqual(readdirSync(out), [], 'not even secrets');
  }));
