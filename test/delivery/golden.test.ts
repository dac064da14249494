// Goldens of the delivery forms a reviewer reads: the cluster README, the Proxmox and libvirt
// scripts of one host per role, the PXE tree (boot scripts, menus, index, preseeds), as real files under test/golden/delivery/<profile>/, plus the sha256 of every ISO and
// tar (their bytes are checked by reading them back in iso9660.test.ts and bundles.test.ts; the
// hashes catch any unintended byte change). vSphere values are gzip output, whose bytes may differ
// between zlib builds (FACTS.md), so they are decoded in bundles.test.ts instead.
// UPDATE_GOLDEN=1 npm test rewrites them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { DELIVERY_FORMS, formsFor } from '../../src/render/delivery/forms.js';
import { seedsFromTree } from '../../src/render/delivery/seeds.js';
import { HeldTree, renderProfile } from '../helpers/cluster.js';
import { repoPath } from '../helpers/repo.js';
import { listFiles } from '../helpers/tmp.js';

const BINARY = /\.(iso|tar)$/;
const GZIP = /^vsphere\//;
/** Scripts differ between hosts only in names, addresses and MACs: one host per role is enough to read. */
const SCRIPT_HOSTS = /^(proxmox|libvirt)\/(cp1|worker1|lb1)\./;
/**
 * The PXE tree's shared files, and the per-host ones of cp1 (NIC by MAC) and worker2 (MAC and
 * interface name); its nocloud/ copies are byte-compared with hosts/ in pxe.test.ts.
 */
const PXE_TEXT = /^pxe\/(README\.md|boot\.ipxe|hosts\.json|grub\/grub\.cfg|preseed\/(cp1|worker2)\.cfg|(ipxe\/|grub\/grub\.cfg-)0c-c4-7a-30-00-(11|22)(\.ipxe)?)$/;


for (const name of ['default', 'debian-12-cilium', 'pxe']) {
  test(`golden: profile ${name}'s delivery files match test/golden/delivery/${name}/`, async () => {
    const { plan, tree } = await renderProfile(name);
    const delivery = await HeldTree.of(await renderDeliveryTree(plan, seedsFromTree(plan, tree), { forms: formsFor(DELIVERY_FORMS, plan.delivery.server) }));
    const texts = delivery.files().filter((f) => f.path === 'README.md' || (name === 'pxe' ? PXE_TEXT : SCRIPT_HOSTS).test(f.path));
    const hashes = delivery.files().filter((f) => BINARY.test(f.path)).map((f) => `${createHash('sha256').update(f.content).digest('hex')}  ${f.path}`).join('\n') + '\n';
    const dir = repoPath('test', 'golden', 'delivery', name);
    if (process.env.UPDATE_GOLDEN === '1') {
      rmSync(dir, { recursive: true, force: true });
      for (const f of texts) {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), f.content);
      }
      writeFileSync(join(dir, 'binaries.sha256'), hashes);
    }
    assert.deepEqual(listFiles(dir), [...texts.map((f) => f.path), 'binaries.sha256'].sort(), 'the set of files');
    for (const f of texts) assert.equal(Buffer.from(f.content).toString('utf8'), readFileSync(join(dir, f.path), 'utf8'), `${f.path} differs from its golden`);
    assert.equal(hashes, readFileSync(join(dir, 'binaries.sha256'), 'utf8'), 'an ISO or tar changed');
  });
}
