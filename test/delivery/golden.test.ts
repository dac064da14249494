// Goldens of the delivery forms a reviewer reads: the cluster README, the Proxmox and libvirt
// scripts of one host per role, the PXE tree (boot scripts, menus, index, preseeds), as real files under test/golden/delivery/<profile>/, plus the sha256 of every ISO and
// tar (their bytes are checked by reading them back in iso9660.test.ts and bundles.test.ts; the
// hashes catch any unintended byte change). vSphere values are gzip output, whose bytes may differ
// between zlib builds (FACTS.md), so they are decoded in bundles.test.ts instead. built.keys holds
// each built file's key and a hash of its content (vSphere's decoded), so that no change of
// content goes out under an old key.
// UPDATE_GOLDEN=1 npm test rewrites them (not under CI: test/helpers/golden.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { DELIVERY_FORMS, formsFor } from '../../src/render/delivery/forms.js';
import { HeldTree, renderProfile } from '../helpers/cluster.js';
import { updatingGoldens } from '../helpers/golden.js';
import { repoPath } from '../helpers/repo.js';
import { listFiles } from '../helpers/tmp.js';

const BINARY = /\.(iso|tar)$/;
const GZIP = /^vsphere\//;
const sha256 = (content: string | Uint8Array): string => createHash('sha256').update(content).digest('hex');
/** A gzip+base64 value (gzip's magic bytes 1f 8b 08 encode as H4sI). */
const GZIP_VALUE = /H4sI[A-Za-z0-9+/]+=*/g;
/** A hash of a file's content; in vSphere files, of its text with every gzip value decoded (twice nested: the metadata holds the network config). */
function fingerprint(path: string, content: string | Uint8Array): string {
  if (!GZIP.test(path)) return sha256(content);
  let text = Buffer.from(content).toString('utf8');
  for (let depth = 0; depth < 3; depth++) text = text.replace(GZIP_VALUE, (v) => JSON.stringify(gunzipSync(Buffer.from(v, 'base64')).toString('utf8')));
  assert.doesNotMatch(text, GZIP_VALUE, `${path}: gzip values nested deeper than expected`);
  return sha256(text);
}
/** Scripts differ between hosts only in names, addresses and MACs: one host per role is enough to read. */
const SCRIPT_HOSTS = /^(proxmox|libvirt)\/(cp1|worker1|lb1)\./;
/**
 * The PXE tree's shared files, and the per-host ones of cp1 (NIC by MAC) and worker2 (MAC and
 * interface name); its nocloud/ copies are byte-compared with hosts/ in pxe.test.ts.
 */
const PXE_TEXT = /^pxe\/(README\.md|boot\.ipxe|hosts\.json|grub\/grub\.cfg|preseed\/(cp1|worker2)\.cfg|(ipxe\/|grub\/grub\.cfg-)0c-c4-7a-30-00-(11|22)(\.ipxe)?)$/;


for (const name of ['default', 'debian-12-cilium', 'pxe']) {
  test(`golden: profile ${name}'s delivery files match test/golden/delivery/${name}/`, async () => {
    const { plan, seeds } = await renderProfile(name);
    const built = renderDeliveryTree(plan, seeds, { forms: formsFor(DELIVERY_FORMS, plan.delivery.server) });
    const delivery = await HeldTree.of(built);
    const texts = delivery.files().filter((f) => f.path === 'README.md' || (name === 'pxe' ? PXE_TEXT : SCRIPT_HOSTS).test(f.path));
    const binaries = delivery.files().filter((f) => BINARY.test(f.path));
    const hashes = binaries.map((f) => `${sha256(f.content)}  ${f.path}`).join('\n') + '\n';
    // Every built file's key (what a re-render trusts instead of building it again) with a hash of
    // what it builds (vSphere files with their gzip values decoded): never one key for two contents,
    // or an existing output would keep the old file.
    const keyed = built.files().filter((f) => f.key !== undefined);
    const keys = keyed.map((f) => `${f.key}  ${fingerprint(f.path, delivery.get(f.path)!.content)}  ${f.path}`).join('\n') + '\n';
    const dir = repoPath('test', 'golden', 'delivery', name);
    if (updatingGoldens()) {
      const byPath = (lines: string): Map<string, string[]> => new Map(lines.trim().split('\n').map((l) => { const w = l.split('  '); return [w.pop()!, w]; }));
      const old = existsSync(join(dir, 'built.keys')) ? byPath(readFileSync(join(dir, 'built.keys'), 'utf8')) : new Map<string, string[]>();
      for (const [path, [key, content]] of byPath(keys)) {
        const [oldKey, oldContent] = old.get(path) ?? [];
        if (oldKey === key && oldContent !== content) throw new Error(`${path}: a new content under its old key; change ISO9660_FORMAT (iso9660.ts), TAR_FORMAT (tar.ts) or VSPHERE_FORMAT (vsphere.ts)`);
      }
      rmSync(dir, { recursive: true, force: true });
      for (const f of texts) {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), f.content);
      }
      writeFileSync(join(dir, 'binaries.sha256'), hashes);
      writeFileSync(join(dir, 'built.keys'), keys);
    }
    assert.deepEqual(listFiles(dir), [...texts.map((f) => f.path), 'binaries.sha256', 'built.keys'].sort(), 'the set of files');
    for (const f of texts) assert.equal(Buffer.from(f.content).toString('utf8'), readFileSync(join(dir, f.path), 'utf8'), `${f.path} differs from its golden`);
    assert.equal(hashes, readFileSync(join(dir, 'binaries.sha256'), 'utf8'), 'an ISO or tar changed');
    assert.equal(keys, readFileSync(join(dir, 'built.keys'), 'utf8'), 'a built file\'s key or content changed');
  });
}
