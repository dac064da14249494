// `kubebake render cloud-init --delivery …` as an operator runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

test('--delivery with an unknown form is a usage error (exit 2) naming the forms, and writes nothing', () =>
  withTempDir((out) => {
    const r = runKubebake(['render', 'cloud-init', '-f', repoPath('profiles', 'seed.yaml'), '-o', out, '--delivery', 'iso,floppy']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown delivery form floppy: use all, none, or a list of gzip, iso, tar, vsphere, proxmox, libvirt, pxe/);
    assert.deepEqual(readdirSync(out), [], 'not even secrets');
  }));
