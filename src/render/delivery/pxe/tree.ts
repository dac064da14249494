// out/<cluster>/pxe/: everything a PXE-booted host fetches from the provisioning server, which
// serves this folder at its root URL (delivery.server). Pure: plan + seeds → files.
import { FileTree } from '../../../output/tree.js';
import { GENERATED } from '../../../util/generated.js';
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { SEED_MODES, type HostSeed } from '../seeds.js';
import { autoinstallMetaData, renderAutoinstall } from './autoinstall.js';
import { bootDir, hostBoot, hostInstall, installerOf, UBUNTU_ISO, type BootDefault } from './boot-params.js';
import { hostGrubPath, renderGrubHost, renderGrubMenu } from './grub-cfg.js';
import { renderPxeIndex } from './hosts-json.js';
import { hostIpxePath, renderDispatcher, renderHostIpxe } from './ipxe.js';
import { renderPreseed } from './preseed.js';
import { renderPxeReadme } from './readme.js';

const SECRET_MODE = 0o600;

/**
 * NoCloud over HTTP asks the seed URL for vendor-data too (cloud-init util.read_seeded, 22.4 and
 * upstream), through url_helper.readurl with 10 retries a second apart: a 404 would cost every
 * boot about 10 s. kubebake has no vendor-data (each host's user-data is complete on its own), so
 * the HTTP seed answers an empty cloud-config; no other form carries one.
 */
export const EMPTY_VENDOR_DATA = `#cloud-config\n# ${GENERATED}\n# kubebake writes no vendor-data: each host's user-data is complete on its own.\n{}\n`;

export interface BootScripts { ipxe: string; grub: string }

/**
 * A host's per-MAC boot scripts (ipxe/<mac>.ipxe, grub/grub.cfg-<mac>) with the given default:
 * the tree holds the `local` ones; `kubebake serve` answers per host with one or the other.
 */
export function hostBootScripts(plan: ClusterPlan, server: string, node: NodePlan, dflt: BootDefault): BootScripts {
  const boot = hostInstall(plan, server, node);
  return { ipxe: renderHostIpxe(plan, node, boot, dflt), grub: renderGrubHost(plan, node, boot, dflt) };
}

export function renderPxeTree(plan: ClusterPlan, seeds: readonly HostSeed[]): FileTree {
  const server = plan.delivery.server;
  if (!server) throw new Error('renderPxeTree without a server: formsFor (forms.ts) leaves pxe out');
  const tree = new FileTree();
  const hosts = seeds.map((seed) => {
    const node = plan.nodes.find((n) => n.name === seed.host)!;
    const boot = hostBoot(plan, server, node, seed.networkConfig);
    const files: string[] = [];
    const add = (path: string, content: string, mode = 0o644): void => {
      tree.add(path, content, mode);
      files.push(path);
    };
    const dir = `nocloud/${node.name}`;
    add(`${dir}/user-data`, seed.userData, SEED_MODES['user-data']);
    add(`${dir}/meta-data`, seed.metaData, SEED_MODES['meta-data']);
    add(`${dir}/network-config`, seed.networkConfig, SEED_MODES['network-config']);
    add(`${dir}/vendor-data`, EMPTY_VENDOR_DATA);
    if (installerOf(plan) === 'autoinstall') {
      const doc = renderAutoinstall(plan, node, seed);
      add(`autoinstall/${node.name}.yaml`, doc, SECRET_MODE);
      // The installer's own NoCloud seed (its ds=…;s= points here): the same document as user-data.
      add(`autoinstall/${node.name}/user-data`, doc, SECRET_MODE);
      add(`autoinstall/${node.name}/meta-data`, autoinstallMetaData(node.name));
    } else {
      add(`preseed/${node.name}.cfg`, renderPreseed(plan, node, boot.seedUrl));
    }
    if (node.mac) {
      // Served as files by anything but `kubebake serve`, which alone knows whether a host is
      // installed: these never install without someone choosing it at the console.
      const local = hostBootScripts(plan, server, node, 'local');
      add(hostIpxePath(node.mac), local.ipxe);
      add(hostGrubPath(node.mac), local.grub);
    }
    return { node, boot, files };
  });
  const shared = ['boot.ipxe', 'grub/grub.cfg', 'hosts.json', 'README.md'];
  tree.add('boot.ipxe', renderDispatcher(plan, server));
  tree.add('grub/grub.cfg', renderGrubMenu(plan, hosts));
  const supplied = ['linux', 'initrd', ...(installerOf(plan) === 'autoinstall' ? [UBUNTU_ISO] : [])].map((f) => `${bootDir(plan)}/${f}`);
  tree.add('hosts.json', renderPxeIndex(plan, server, hosts, shared, supplied));
  tree.add('README.md', renderPxeReadme(plan, server, hosts));
  return tree;
}
