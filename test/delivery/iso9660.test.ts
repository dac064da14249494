// The cidata ISO, read back by tools nobody on the team wrote: xorriso (libisofs), isoinfo
// (genisoimage) and blkid (util-linux, what cloud-init uses to find the cidata label). The Linux
// kernel reads the same ISOs in test/e2e/vm-boot.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIso9660, iso9660Key, level1Name } from '../../src/render/delivery/iso9660.js';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { DELIVERY_EPOCH } from '../../src/render/delivery/seeds.js';
import { HeldTree, renderProfile } from '../helpers/cluster.js';
import { withTempDir } from '../helpers/tmp.js';
import { run } from '../helpers/tools.js';

const SEED = ['user-data', 'meta-data', 'network-config'] as const;

for (const name of ['default', 'debian-12-cilium', 'seed']) {
  test(`${name}: every host's seed.iso reads back with xorriso and isoinfo: label cidata, real names, modes, bytes`, async () => {
    const { plan, seeds } = await renderProfile(name);
    const delivery = await HeldTree.of(renderDeliveryTree(plan, seeds, { forms: ['iso'] }));
    await withTempDir((dir) => {
      for (const seed of seeds) {
        const f = delivery.get(`hosts/${seed.host}/seed.iso`)!;
        assert.equal(f.mode, 0o600, 'the ISO carries user-data: 0600');
        const iso = join(dir, `${seed.host}.iso`);
        writeFileSync(iso, f.content);

        const pvd = run('xorriso', ['-indev', iso, '-pvd_info']);
        assert.equal(pvd.status, 0, pvd.stderr);
        assert.match(pvd.stdout, /^Volume Id\s*: cidata$/m);
        assert.doesNotMatch(pvd.stderr, /SORRY|FAILURE|WARNING/, pvd.stderr);

        // Rock Ridge, as Linux (and so cloud-init) sees it: real names and modes.
        const out = join(dir, seed.host);
        const x = run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', out]);
        assert.equal(x.status, 0, x.stderr);
        const ls = run('xorriso', ['-indev', iso, '-lsl', '/']);
        assert.match(ls.stdout, /^-rw-------\s+1 0\s+0\s+\d+ Jan\s+1\s+2000 'user-data'$/m, ls.stdout);
        assert.match(ls.stdout, /^-rw-r--r--\s+1 0\s+0\s+\d+ Jan\s+1\s+2000 'network-config'$/m, ls.stdout);
        for (const file of SEED) {
          const expected = file === 'user-data' ? seed.userData : file === 'meta-data' ? seed.metaData : seed.networkConfig;
          assert.equal(readFileSync(join(out, file), 'utf8'), expected, `${seed.host}/${file} via Rock Ridge`);
          // Joliet (what Windows hosts such as Hyper-V read) and the plain ISO 9660 8.3 names.
          assert.equal(run('isoinfo', ['-J', '-i', iso, '-x', `/${file};1`]).stdout, expected, `${seed.host}/${file} via Joliet`);
          assert.equal(run('isoinfo', ['-i', iso, '-x', `/${level1Name(file)}`]).stdout, expected, `${seed.host}/${file} via ISO 9660`);
        }
        assert.equal(statSync(join(out, 'user-data')).mode & 0o777, 0o600);

        const d = run('isoinfo', ['-d', '-i', iso]).stdout;
        assert.match(d, /^Volume id: cidata$/m);
        assert.match(d, /Joliet with UCS level 3 found/);
        assert.match(d, /Rock Ridge signatures version 1 found/);
        assert.equal(run('blkid', ['-p', '-o', 'value', '-s', 'LABEL', iso]).stdout.trim(), 'cidata');
      }
    });
  });
}

test('level-1 names are 8.3 d-characters, as mkisofs maps them', () => {
  assert.equal(level1Name('user-data'), 'USER_DAT.;1');
  assert.equal(level1Name('meta-data'), 'META_DAT.;1');
  assert.equal(level1Name('network-config'), 'NETWORK_.;1');
  assert.equal(level1Name('vendor.data'), 'VENDOR.DAT;1');
});

test('byte-identical for the same files; any change of content changes the image', () => {
  const files = SEED.map((name) => ({ name, content: `${name} content\n`, mode: 0o644 }));
  const a = buildIso9660({ volumeId: 'cidata', files, time: DELIVERY_EPOCH });
  const b = buildIso9660({ volumeId: 'cidata', files: [...files].reverse(), time: DELIVERY_EPOCH });
  assert.deepEqual(Buffer.from(a), Buffer.from(b), 'input order does not matter');
  const c = buildIso9660({ volumeId: 'cidata', files: files.map((f, i) => (i ? f : { ...f, content: 'other\n' })), time: DELIVERY_EPOCH });
  assert.notDeepEqual(Buffer.from(a), Buffer.from(c));
});

test('a directory spanning several sectors and files of several sectors read back intact', () =>
  withTempDir((dir) => {
    // 120 records do not fit one 2048-byte sector; no record may cross a sector boundary.
    const files = Array.from({ length: 120 }, (_, i) => ({
      name: `file-${String(i).padStart(3, '0')}.cfg`,
      content: Buffer.alloc(i * 97 + 1, String.fromCharCode(97 + (i % 26))),
      mode: i % 2 ? 0o600 : 0o644,
    }));
    // 8.3 names must stay unique: FILE_000.CFG … FILE_119.CFG are.
    const iso = join(dir, 'many.iso');
    writeFileSync(iso, buildIso9660({ volumeId: 'many', files: files.map((f) => ({ ...f, name: f.name.replace('file-', 'f') })), time: DELIVERY_EPOCH }));
    const x = run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/', join(dir, 'out')]);
    assert.equal(x.status, 0, x.stderr);
    for (const f of files) {
      const name = f.name.replace('file-', 'f');
      assert.deepEqual(readFileSync(join(dir, 'out', name)), f.content, name);
      assert.equal(statSync(join(dir, 'out', name)).mode & 0o777, f.mode, name);
    }
    const joliet = run('isoinfo', ['-J', '-l', '-i', iso]).stdout;
    assert.equal((joliet.match(/ f\d{3}\.cfg;1/g) ?? []).length, 120, joliet);
  }));

test('two names with one 8.3 form are refused (a renderer bug, not silent loss), already by the key the render computes before writing', () => {
  const clash = { volumeId: 'cidata', time: DELIVERY_EPOCH, files: [{ name: 'user-data', content: '', mode: 0o644 }, { name: 'user-dat', content: '', mode: 0o644 }] };
  assert.throws(() => buildIso9660(clash), /8\.3 name/);
  assert.throws(() => iso9660Key(clash), /8\.3 name/);
  assert.throws(() => iso9660Key({ ...clash, volumeId: 'no spaces' }), /bad ISO volume id/);
});
