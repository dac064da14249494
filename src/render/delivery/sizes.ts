// User-data size against what each way of handing it to a machine accepts. Reported on every
// render; over a limit, a warning says what to do instead.
import type { HostSeed } from './seeds.js';
import { gzipSync } from 'node:zlib';

export interface SizeLimit {
  platform: string;
  /** What is measured: the file as rendered, its base64 form, or the gzip+base64 value vSphere stores. */
  measure: 'user-data' | 'base64' | 'gzip+base64';
  bytes?: number;
  source: string;
}

/**
 * Sources: FACTS.md (EC2 16 KB before base64, VMware guestinfo 64 KiB per value, Azure 64 KiB);
 * OpenStack Nova's user guide ("must be base64 encoded and is restricted to 65535 bytes").
 */
export const LIMITS: readonly SizeLimit[] = [
  { platform: 'EC2', measure: 'user-data', bytes: 16 * 1024, source: 'EC2 API: "User data is limited to 16 KB" (before base64)' },
  { platform: 'vSphere guestinfo', measure: 'gzip+base64', bytes: 64 * 1024, source: 'VMware guestinfo: 64 KiB per value' },
  { platform: 'OpenStack', measure: 'base64', bytes: 65535, source: 'Nova: base64 user data, at most 65535 bytes' },
  { platform: 'Azure', measure: 'user-data', bytes: 64 * 1024, source: '64 KiB' },
  { platform: 'Proxmox snippets, cidata ISO, libvirt', measure: 'user-data', source: 'files on a disk: kubebake knows no limit' },
];

export interface HostSize { host: string; userData: number; gzip: number; gzipBase64: number; over: string[] }

/** Measured once per list of seeds: the README and the command's report both show the sizes. */
const measured = new WeakMap<readonly HostSeed[], HostSize[]>();

export function measure(seeds: readonly HostSeed[]): HostSize[] {
  let sizes = measured.get(seeds);
  if (!sizes) measured.set(seeds, (sizes = seeds.map(measureOne)));
  return sizes;
}

function measureOne(s: HostSeed): HostSize {
  const userData = Buffer.byteLength(s.userData, 'utf8');
  // The same compression vsphere.ts uses for guestinfo.
  const gzip = gzipSync(Buffer.from(s.userData, 'utf8'), { level: 9 }).length;
  const gz = 4 * Math.ceil(gzip / 3);
  const bytes = { 'user-data': userData, base64: 4 * Math.ceil(userData / 3), 'gzip+base64': gz };
  const over = LIMITS.filter((l) => l.bytes !== undefined && bytes[l.measure] > l.bytes).map((l) => l.platform);
  return { host: s.host, userData, gzip, gzipBase64: gz, over };
}

export const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

/** The cluster's vendor-data (the same on every host), in bytes. */
export const vendorDataBytes = (seeds: readonly HostSeed[]): number => (seeds[0] ? Buffer.byteLength(seeds[0].vendorData, 'utf8') : 0);

/** One line per host for the command's output, then one warning per platform exceeded. */
export function sizeReport(seeds: readonly HostSeed[]): { lines: string[]; warnings: string[] } {
  const sizes = measure(seeds);
  const lines = sizes.map((s) => `  ${s.host}: user-data ${kib(s.userData)} (gzip+base64 ${kib(s.gzipBase64)})${s.over.length ? ` — over ${s.over.join(', ')}` : ''}`);
  // The runtime moved out of user-data is still bytes a host gets: say how many, once (the same for every host).
  const vendor = vendorDataBytes(seeds);
  if (vendor > 100) lines.push(`  every host also: vendor-data ${kib(vendor)} (kubebake's runtime, the same for all)`);
  const warnings: string[] = [];
  for (const limit of LIMITS.filter((l) => l.bytes !== undefined)) {
    const hosts = sizes.filter((s) => s.over.includes(limit.platform));
    if (!hosts.length) continue;
    warnings.push(
      `user-data of ${hosts.map((h) => h.host).join(', ')} is over ${limit.platform}'s ${kib(limit.bytes!)} limit (${limit.measure}). ` +
        (limit.measure !== 'gzip+base64'
          ? `There, pass it gzip-compressed (cloud-init unpacks gzip user-data; gzip: ${hosts.map((h) => `${h.host} ${kib(h.gzip)}`).join(', ')}), or use image: baked (no install steps in user-data); the cidata ISO, Proxmox and libvirt forms have no such limit.`
          : 'Attach the cidata ISO instead (hosts/<host>/seed.iso as the VM\'s CD drive), or use image: baked.'),
    );
  }
  return { lines, warnings };
}
