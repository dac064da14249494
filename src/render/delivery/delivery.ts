// Every delivery form of a cluster, as one FileTree relative to out/<cluster>/: pure serialisers
// of the plan and each host's three NoCloud files (exactly as rendered).
import { FileTree } from '../../output/tree.js';
import type { ClusterPlan } from '../../plan/plan.js';
import { renderClusterReadme } from './cluster-readme.js';
import type { DeliveryForm } from './forms.js';
import { iso9660Chunks, iso9660Key, type IsoOptions } from './iso9660.js';
import { renderVirtInstallScript } from './libvirt.js';
import { renderQmScript, snippetNames } from './proxmox.js';
import { renderPxeTree } from './pxe/tree.js';
import { DELIVERY_EPOCH, SEED_FILES, SEED_MODES, seedContent, type HostSeed } from './seeds.js';
import { tarChunks, tarKey, type TarEntry } from './tar.js';
import { gzipKey, gzipUserData } from './gzip.js';
import { GuestinfoValues, renderGovcScript, renderVmxLines, vsphereKey } from './vsphere.js';
import { contentDigests } from '../../util/digest.js';

export interface DeliveryOptions { forms: readonly DeliveryForm[] }

/** A host's seed as tar/ISO entries: real names, modes kept. */
const seedEntries = (seed: HostSeed, prefix = ''): TarEntry[] =>
  SEED_FILES.map((f) => ({ path: `${prefix}${f}`, content: seedContent(seed, f), mode: SEED_MODES[f] }));

/** Scripts carry user-data (vSphere) or copy it (Proxmox): owner-only, executable. */
const SCRIPT_MODE = 0o700;
/** Anything that contains a host's user-data. */
const SECRET_MODE = 0o600;

export function renderDeliveryTree(plan: ClusterPlan, seeds: readonly HostSeed[], opts: DeliveryOptions): FileTree {
  const tree = new FileTree();
  const forms = new Set(opts.forms);
  const readme = renderClusterReadme(plan, seeds, opts.forms);
  tree.add('README.md', readme);
  const nodes = new Map(plan.nodes.map((n) => [n.name, n]));
  const guestinfos = new GuestinfoValues();
  // Built files' keys (output/tree.ts), each content hashed once (a content many hosts share, once).
  const digest = contentDigests();
  for (const seed of seeds) {
    const node = nodes.get(seed.host)!;
    if (forms.has('gzip')) {
      tree.addBuilt(`hosts/${seed.host}/user-data.gz`, () => [gzipUserData(seed)], SECRET_MODE, gzipKey(seed, digest));
    }
    if (forms.has('iso')) {
      // 370 KiB each (300 of them the padding, shared): built when written, one at a time.
      const iso: IsoOptions = { volumeId: 'cidata', time: DELIVERY_EPOCH, files: SEED_FILES.map((f) => ({ name: f, content: seedContent(seed, f), mode: SEED_MODES[f] })) };
      tree.addBuilt(`hosts/${seed.host}/seed.iso`, () => iso9660Chunks(iso), SECRET_MODE, iso9660Key(iso, digest));
    }
    if (forms.has('tar')) {
      const entries = seedEntries(seed);
      tree.addBuilt(`hosts/${seed.host}/seed.tar`, () => tarChunks(entries, DELIVERY_EPOCH), SECRET_MODE, tarKey(entries, DELIVERY_EPOCH, digest));
    }
    if (forms.has('vsphere')) {
      tree.addBuilt(`vsphere/${seed.host}.vmx`, () => [Buffer.from(renderVmxLines(seed, guestinfos.of(seed)))], SECRET_MODE, vsphereKey('vmx', seed, digest));
      tree.addBuilt(`vsphere/${seed.host}.govc.sh`, () => [Buffer.from(renderGovcScript(seed, guestinfos.of(seed), node.mac))], SCRIPT_MODE, vsphereKey('govc', seed, digest, node.mac));
    }
    if (forms.has('proxmox')) {
      const names = snippetNames(plan, seed.host);
      tree.add(`proxmox/snippets/${names.user}`, seed.userData, SECRET_MODE);
      tree.add(`proxmox/snippets/${names.network}`, seed.networkConfig);
      tree.add(`proxmox/snippets/${names.meta}`, seed.metaData);
      // Per-host scripts are rendered when written (keyless: a re-render renders them to compare):
      // 5,000 hosts' held at once were 18 MiB of the render's heap.
      tree.addBuilt(`proxmox/${seed.host}.qm.sh`, () => [Buffer.from(renderQmScript(plan, node, seed))], SCRIPT_MODE);
    }
    if (forms.has('libvirt')) tree.addBuilt(`libvirt/${seed.host}.virt-install.sh`, () => [Buffer.from(renderVirtInstallScript(plan, node))], SCRIPT_MODE);
  }
  if (forms.has('pxe')) tree.merge(renderPxeTree(plan, seeds), 'pxe');
  if (forms.has('tar')) {
    const all = [...seeds.flatMap((s) => seedEntries(s, `hosts/${s.host}/`)), { path: 'README.md', content: readme, mode: 0o644 }];
    tree.addBuilt('seeds.tar', () => tarChunks(all, DELIVERY_EPOCH), SECRET_MODE, tarKey(all, DELIVERY_EPOCH, digest));
  }
  return tree;
}
