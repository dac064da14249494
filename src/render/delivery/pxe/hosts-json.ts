// hosts.json: the PXE tree's index, for people and for `kubebake serve` — which hosts exist, which
// MAC is which host, each host's seed URL and kernel arguments, and exactly which files under
// pxe/ belong to whom (a server can refuse everything else).
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import { GENERATED } from '../../../util/generated.js';
import type { HostBoot, Installer } from './boot-params.js';

export const PXE_INDEX_VERSION = 1;

export interface PxeHostEntry {
  role: NodePlan['role'];
  ip: string;
  /** Absent when the topology names only the NIC's interface (then no per-MAC boot script). */
  mac?: string;
  os: ClusterPlan['os']['profile'];
  /** `<server>/nocloud/<host>/`: NoCloud's seedfrom; the server serves user-data, meta-data, network-config, vendor-data below it. */
  seedUrl: string;
  /** Kernel arguments for booting the host's OS with its HTTP seed (one argument per item, no spaces). */
  kernelArgs: string[];
  /** The netboot installer the boot scripts load, and its arguments. */
  install: { kind: Installer; kernel: string; initrd: string; url: string; kernelArgs: string[] };
  /** Paths under pxe/ that are this host's (its seed, install document, boot scripts). */
  files: string[];
}

export interface PxeIndex {
  comment: string;
  version: typeof PXE_INDEX_VERSION;
  cluster: string;
  server: string;
  /** Lower-case colon-separated MAC → host name. */
  macs: Record<string, string>;
  hosts: Record<string, PxeHostEntry>;
  /** Paths under pxe/ that belong to no single host (dispatchers, menus, this index, the README). */
  shared: string[];
  /** Paths under pxe/ the operator puts in place (netboot kernel, initrd, Ubuntu's ISO): kubebake does not write them. */
  supplied: string[];
}

export function renderPxeIndex(
  plan: ClusterPlan,
  server: string,
  hosts: readonly { node: NodePlan; boot: HostBoot; files: string[] }[],
  shared: string[],
  supplied: string[],
): string {
  const index: PxeIndex = {
    comment: GENERATED,
    version: PXE_INDEX_VERSION,
    cluster: plan.name,
    server,
    macs: Object.fromEntries(hosts.filter((h) => h.node.mac).map((h) => [h.node.mac!.toLowerCase(), h.node.name])),
    hosts: Object.fromEntries(
      hosts.map(({ node, boot, files }) => [
        node.name,
        {
          role: node.role,
          ip: node.ip,
          ...(node.mac ? { mac: node.mac.toLowerCase() } : {}),
          os: plan.os.profile,
          seedUrl: boot.seedUrl,
          kernelArgs: boot.seedArgs,
          install: { kind: boot.install.kind, kernel: boot.kernelUrl, initrd: boot.initrdUrl, url: boot.install.url, kernelArgs: boot.install.args },
          files,
        },
      ]),
    ),
    shared,
    supplied,
  };
  return JSON.stringify(index, null, 2) + '\n';
}
