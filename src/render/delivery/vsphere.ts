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
export const VSPHERE_FORMAT = 'kubebake-vsphere/3';

/** A digest of everything a host's `.vmx` lines or govc script depend on. */
export const vsphereKey = (file: 'vmx' | 'govc', seed: HostSeed, digest: ContentDigest = sha256Hex, mac = ''): string =>
  digestOf([VSPHERE_FORMAT, file, seed.host, mac, ...[seed.metaData, seed.networkConfig, seed.userData].map(digest)]);

/** gzip (header time 0, so the same input gives the same bytes) then base64. */
export const gzipBase64 = (text: string): string => gzipText(text).toString('base64');

/**
 * The guestinfo keys cloud-init clears once it has read them: the datasource's `redact` metadata
 * key ("formerly named cleanup-guestinfo") sets each listed key to "---" and its .encoding to " "
 * with `vmware-rpctool "info-set guestinfo.<key> …"` right after reading the data
 * (DataSourceVMware.redact_keys → guestinfo_redact_keys, guestinfo transport only; in the
 * datasource since it entered cloud-init, 21.3: canonical/cloud-init commit 8b4a9bc7 "Datasource
 * for VMware (#953)", and unchanged @ 04eacd06ee60de9dbb9e7be784be20dab7342c1a; documented in
 * doc/rtd/reference/datasources/vmware.rst, "Redacting sensitive information"; Debian 12's 22.4.2
 * has the same code). user-data carries the control planes' CA keys and the join token, so it
 * should not stay readable in the VM's guestinfo for the VM's life; metadata (instance id,
 * host name, network) stays, so a reboot still finds the same instance. The guest can only
 * overwrite the values it sees: what the operator's own copy (the .vmx lines, vCenter's record of
 * the reconfiguration) keeps is the operator's to clean.
 */
export const REDACTED_GUESTINFO = ['userdata', 'vendordata'] as const;

/**
 * The guestinfo.metadata document: the NoCloud meta-data (a flat mapping, renderMetaData) with
 * the network config's two keys and `redact` appended to it. Appended, not parsed and emitted again: yaml's
 * per-document cost made that two thirds of the time vSphere's files took. Both values are plain
 * scalars in YAML 1.1 as they are: base64 of gzip starts with "H4sI" (no number, boolean or
 * date) and its alphabet (A-Z a-z 0-9 + / =) has no indicator character.
 */
export function guestinfoMetadata(seed: HostSeed): string {
  return `${seed.metaData}network: ${gzipBase64(seed.networkConfig)}\nnetwork.encoding: ${GUESTINFO_ENCODING}\nredact: [${REDACTED_GUESTINFO.join(', ')}]\n`;
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

/**
 * Manual MACs under VMware's own OUI 00:50:56 must stay within 00:50:56:00:00:00-00:50:56:3F:FF:FF:
 * the rest is what vCenter Server generates and what VMkernel adapters use. Any other unique MAC
 * (kubebake's assigned 52:54:00:…) is supported as a manual address ("By default, VMware uses the
 * OUI 00:50:56 for manually generated addresses, but all unique manually generated addresses are
 * supported": VMware vSphere 6.5 Networking guide, "VMware OUI in Static MAC Addresses"; hosts
 * older than vSphere 5.1 refused non-VMware OUIs, the API's NonVmwareOuiMacNotSupportedHost fault,
 * "Since vSphere API 5.1").
 */
export const inVmwareReservedRange = (mac: string): boolean => /^00:50:56:([4-9a-f][0-9a-f])/i.test(mac);

/**
 * The VM's first NIC (govc names it ethernet-0) gets the host's MAC as a manual address, unless it
 * has it already (a MAC copied from the VM into the topology may be one vCenter generated, which it
 * does not take back as a manual one). govc vm.network.change -net.address sets it, and needs -net
 * with it, "even when not changing the VM network" (vmware/govmomi govc/USAGE.md @
 * fd06160642a8c3609c0cd86e2bc25f2b4e974631, vm.network.change): the second argument or
 * GOVC_NETWORK, else govc's default network (an error when the datacenter has several).
 */
function macSteps(mac: string): { read: string; set: string } {
  const reserved = inVmwareReservedRange(mac)
    ? `\n  echo "warning: $mac is in 00:50:56:40:00:00-00:50:56:ff:ff:ff, which vSphere keeps for the addresses it generates: if vCenter refuses it, give the host another mac in the topology" >&2`
    : '';
  return {
    read: `# network-config matches the NIC by this MAC: the VM's first NIC gets it.
mac=${q(mac)}
current=$(govc device.info -vm "$vm" ethernet-0 | sed -n 's/^ *MAC Address: *//p')`,
    set: `if [ "\${current,,}" != "$mac" ]; then${reserved}
  govc vm.network.change -vm "$vm" -net "$network" -net.address "$mac" ethernet-0 ||
    { echo "$vm: could not set ethernet-0's MAC to $mac: name the VM's network: $0 $vm NETWORK (or set GOVC_NETWORK)" >&2; exit 1; }
fi`,
  };
}

/**
 * A govc script that sets the same keys on an existing VM (by default named like the host), and
 * the NIC's MAC when the host has one. The values go to govc in files, not on its command line,
 * where any local user reads them (ps, /proc/<pid>/cmdline): `govc vm.change -f KEY=PATH` sets
 * ExtraConfig KEY to the file's contents read as they are (vmware/govmomi cli/vm/change.go
 * extraConfigFile.Set, os.ReadFile; govc/USAGE.md "-f=[] ExtraConfig. <key>=<absolute path to
 * file>" @ fd06160642a8c3609c0cd86e2bc25f2b4e974631; in govc since v0.27.0, commit b5426eba). The
 * files are written by bash's builtin printf (no process, so no command line either) into a
 * folder only the operator reads, removed when the script ends.
 */
export function renderGovcScript(seed: HostSeed, values = guestinfo(seed), mac?: string): string {
  const files = values.map(([k, v]) => ({ key: k, file: `"$values"/${q(k)}`, value: v }));
  const nic = mac ? macSteps(mac) : undefined;
  return script(
    `Sets ${seed.host}'s cloud-init guestinfo${nic ? ' and MAC' : ''} on a vSphere VM (GOVC_URL and credentials from the environment; govc 0.27 or later). Usage: $0 [VM name]${nic ? ' [network]' : ''}`,
    `vm=\${1:-${q(seed.host)}}${nic ? `\nnetwork=\${2:-\${GOVC_NETWORK:-}}\n${nic.read}` : ''}
# The values travel in files (govc vm.change -f KEY=PATH), never on a command line.
umask 077
values=$(mktemp -d)
trap 'rm -rf "$values"' EXIT
${files.map((f) => `printf '%s' ${q(f.value)} > ${f.file}`).join('\n')}
govc vm.change -vm "$vm" \\
${files.map((f) => `  -f ${q(`${f.key}=`)}${f.file}`).join(' \\\n')}${nic ? `\n${nic.set}` : ''}
echo "guestinfo${nic ? ' and MAC' : ''} set on $vm; power it on to run cloud-init"`,
  );
}
