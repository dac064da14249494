// Ubuntu: the autoinstall document the live-server installer (subiquity) reads as NoCloud
// user-data — `#cloud-config` with a top-level `autoinstall:` key (canonical/subiquity
// doc/tutorial/providing-autoinstall.rst). It installs to disk and hands the host's own
// cloud-config to the installed system's first boot through `user-data`, so the installed host
// runs exactly what a cloud image booted from its seed would. Fields, from
// doc/reference/autoinstall-reference.rst @ 44e42fc69cfa65a23262c410d960b3842af78e80:
// - `user-data`: "merged with the user data that the installer may produce. If you supply this,
//   you don't need to supply an identity section" — the host's users come from its cloud-config;
// - `network`: netplan, "applied during installation as well as in the installed system": the
//   host's network-config is netplan v2 already;
// - `storage.layout`: `direct` (one root partition, no LVM) on the disk of a match spec: the
//   host's installDisk as `path` ("matches a disk based on path (e.g. /dev/sdc)", compared with
//   the disk's kernel path: subiquity/models/storage.py match_path, fnmatchcase(disk.path, …)), or
//   `size: largest`, the layouts' documented default made explicit ("By default, these layouts
//   install to the largest disk in a system"); the storage section's default is no layout at all
//   on a machine with several disks ("there is no default for multiple-disk systems");
// - `storage.swap.size: 0`: no swap file (kubelet's default refuses to run with swap on);
// - `shutdown: reboot` (the default, stated): the next network boot gets "boot locally" from
//   `kubebake serve` (src/serve/state.ts), so the installed disk boots.
// Validated in tests against subiquity's autoinstall-schema.json (the same commit).
import { parse } from 'yaml';
import { toYaml11 } from '../../../util/yaml.js';
import { GENERATED } from '../../../util/generated.js';
import type { ClusterPlan, NodePlan } from '../../../plan/plan.js';
import type { HostSeed } from '../seeds.js';

/**
 * The site's proxy and OS mirror for the installer itself (autoinstall-reference: `proxy`, and
 * `apt` in curtin's format, `primary: [{arches: [default], uri}]`, `geoip: false` so it asks no
 * upstream service where it is): on a restricted network it reaches no upstream host.
 */
const siteSources = (plan: ClusterPlan): object => ({
  ...(plan.proxy?.http ? { proxy: plan.proxy.http } : {}),
  ...(plan.mirrors?.os?.url ? { apt: { geoip: false, primary: [{ arches: ['default'], uri: plan.mirrors.os.url }] } } : {}),
});

export function renderAutoinstall(plan: ClusterPlan, node: NodePlan, seed: HostSeed): string {
  const doc = {
    autoinstall: {
      version: 1,
      network: parse(seed.networkConfig) as unknown,
      storage: { layout: { name: 'direct', match: node.installDisk ? { path: node.installDisk } : { size: 'largest' } }, swap: { size: 0 } },
      ...siteSources(plan),
      // The admin user and its keys come from the host's cloud-config (there is no identity section).
      ssh: { 'install-server': true, 'allow-pw': false },
      'user-data': parse(seed.userData) as unknown,
      shutdown: 'reboot',
    },
  };
  return `#cloud-config\n# ${GENERATED}\n${toYaml11(doc)}`;
}

/** The installer's NoCloud meta-data: its own instance id, so the live session never mistakes it for the host's. */
export const autoinstallMetaData = (host: string): string => toYaml11({ 'instance-id': `${host}-autoinstall`, 'local-hostname': host });
