// vSphere: cloud-init's VMware datasource reads guestinfo.metadata and guestinfo.userdata (and
// their ".encoding" keys) from the VM's extraConfig (cloud-init 22.4
// /usr/lib/python3/dist-packages/cloudinit/sources/DataSourceVMware.py: _get_data; it would also
// read guestinfo.vendordata, which kubebake does not set: the user-data is complete on its own).
// It has no network-config key of its own:
// the network config travels inside the metadata under "network" (with "network.encoding").
// Source: canonical/cloud-init cloudinit/sources/DataSourceVMware.py @ dd65b4ad7e245bfb52b5cf3f5a74c0323e4fbbcc
// (guestinfo(), decode() accepting "gzip+base64", process_metadata() popping "network" and
// "network.encoding"); Debian 12's cloud-init 22.4.2 has the same code.
import { q, script } from '../../steps/shell.js';
import { digestOf, sha256Hex, type ContentDigest } from '../../util/digest.js';
import { gzipText } from './gzip.js';
import type { HostSeed } from './seeds.js';

export const GUESTINFO_ENCODING = 'gzip+base64';

/**
 * As ISO9660_FORMAT (iso9660.ts): part of each .vmx and govc script's key; change it with any
 * change to what they say (the delivery golden test compares them with their values decoded,
 * since gzip's bytes vary between zlib builds, and refuses a new text under an old key).
 */
export const VSPHERE_FORMAT = 'kubebake-vsphere/1';

/** A digest of everything a host's `.vmx` lines or govc script depend on. */
export const vsphereKey = (file: 'vmx' | 'govc', seed: HostSeed, digest: ContentDigest = sha256Hex): string =>
  digestOf([VSPHERE_FORMAT, file, seed.host, ...[seed.metaData, seed.networkConfig, seed.userData].map(digest)]);

/** gzip (header time 0, so the same input gives the same bytes) then base64. */
export const gzipBase64 = (text: string): string => gzipText(text).toString('base64');

/**
 * The guestinfo.metadata document: the NoCloud meta-data (a flat mapping, renderMetaData) with
 * the network config's two keys appended to it. Appended, not parsed and emitted again: yaml's
 * per-document cost made that two thirds of the time vSphere's files took. Both values are plain
 * scalars in YAML 1.1 as they are: base64 of gzip starts with "H4sI" (no number, boolean or
 * date) and its alphabet (A-Z a-z 0-9 + / =) has no indicator character.
 */
export function guestinfoMetadata(seed: HostSeed): string {
  return `${seed.metaData}network: ${gzipBase64(seed.networkConfig)}\nnetwork.encoding: ${GUESTINFO_ENCODING}\n`;
}

/** extraConfig key → value, in the order a .vmx lists them. */
export function guestinfo(seed: HostSeed): [string, string][] {
  return [
    ['guestinfo.metadata', gzipBase64(guestinfoMetadata(seed))],
    ['guestinfo.metadata.encoding', GUESTINFO_ENCODING],
    ['guestinfo.userdata', gzipBase64(seed.userData)],
    ['guestinfo.userdata.encoding', GUESTINFO_ENCODING],
  ];
}

/**
 * Each host's guestinfo values for a render, compressed once: a host's .vmx and govc script are
 * built one after the other (they sort together) and share them. 5,000 hosts' values held at once
 * were 150 MiB, so they are built when written (delivery.ts) and only the last host's are kept.
 */
export class GuestinfoValues {
  #last?: { seed: HostSeed; values: [string, string][] };

  of(seed: HostSeed): [string, string][] {
    if (this.#last?.seed === seed) return this.#last.values;
    const values = guestinfo(seed);
    this.#last = { seed, values };
    return values;
  }
}

/** Lines to add to a powered-off VM's .vmx (base64 has no characters a .vmx string must escape). */
export function renderVmxLines(seed: HostSeed, values = guestinfo(seed)): string {
  return `# ${seed.host}: cloud-init guestinfo for the VM's .vmx (or Configuration Parameters in the vSphere client)\n` +
    values.map(([k, v]) => `${k} = "${v}"`).join('\n') + '\n';
}

/** A govc script that sets the same keys on an existing VM (by default named like the host). */
export function renderGovcScript(seed: HostSeed, values = guestinfo(seed)): string {
  const args = values.map(([k, v]) => `  -e ${q(`${k}=${v}`)}`).join(' \\\n');
  return script(
    `Sets ${seed.host}'s cloud-init guestinfo on a vSphere VM (GOVC_URL and credentials from the environment). Usage: $0 [VM name]`,
    `vm=\${1:-${q(seed.host)}}
govc vm.change -vm "$vm" \\
${args}
echo "guestinfo set on $vm; power it on to run cloud-init"`,
  );
}
