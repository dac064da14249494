// User-data size against what each way of handing it to a machine accepts. A host's user-data is
// everything it receives (kubebake writes no vendor-data), so this is the size that matters.
// Reported on every render; where only the gzip form fits, the report says to attach it; where no
// form fits, a warning says what to do instead.
import type { HostSeed } from './seeds.js';
import { gzipText } from './gzip.js';

export interface SizeLimit {
  platform: string;
  /** What is measured: the file as rendered, its base64 form, or the gzip+base64 value vSphere stores. */
  measure: 'user-data' | 'base64' | 'gzip+base64';
  bytes?: number;
  /** Whether the platform can be given `hosts/<host>/user-data.gz` instead (cloud-init unpacks gzip user-data). */
  gzip: boolean;
  source: string;
}

/**
 * Sources: FACTS.md (EC2 16 KB before base64, VMware guestinfo 64 KiB per value, Azure 64 KiB);
 * OpenStack Nova's user guide ("must be base64 encoded and is restricted to 65535 bytes"). Every
 * one of them passes the bytes through to cloud-init, which unpacks gzip user-data of any
 * datasource (render/delivery/gzip.ts).
 */
export const LIMITS: readonly SizeLimit[] = [
  { platform: 'EC2', measure: 'user-data', bytes: 16 * 1024, gzip: true, source: 'EC2 API: "User data is limited to 16 KB" (before base64)' },
  { platform: 'vSphere guestinfo', measure: 'gzip+base64', bytes: 64 * 1024, gzip: false, source: 'VMware guestinfo: 64 KiB per value' },
  { platform: 'OpenStack', measure: 'base64', bytes: 65535, gzip: true, source: 'Nova: base64 user data, at most 65535 bytes' },
  { platform: 'Azure', measure: 'user-data', bytes: 64 * 1024, gzip: true, source: '64 KiB' },
  { platform: 'Proxmox snippets, cidata ISO, libvirt', measure: 'user-data', gzip: false, source: 'files on a disk: kubebake knows no limit' },
];

export interface HostSize {
  host: string;
  userData: number;
  gzip: number;
  gzipBase64: number;
  /** Platforms that take this host only as user-data.gz. */
  gzipOnly: string[];
  /** Platforms that take no form of it. */
  over: string[];
}

/** Measured once per list of seeds: the README and the command's report both show the sizes. */
const measured = new WeakMap<readonly HostSeed[], HostSize[]>();

export function measure(seeds: readonly HostSeed[]): HostSize[] {
  let sizes = measured.get(seeds);
  if (!sizes) measured.set(seeds, (sizes = seeds.map(measureOne)));
  return sizes;
}

const base64 = (n: number): number => 4 * Math.ceil(n / 3);

function measureOne(s: HostSeed): HostSize {
  const userData = Buffer.byteLength(s.userData, 'utf8');
  // The same compression user-data.gz and vSphere's guestinfo use.
  const gzip = gzipText(s.userData).length;
  const plain = { 'user-data': userData, base64: base64(userData), 'gzip+base64': base64(gzip) };
  const gzipped = { 'user-data': gzip, base64: base64(gzip), 'gzip+base64': base64(gzip) };
  const limited = LIMITS.filter((l) => l.bytes !== undefined && plain[l.measure] > l.bytes);
  const fitsGzip = (l: SizeLimit): boolean => l.gzip && gzipped[l.measure] <= l.bytes!;
  return {
    host: s.host,
    userData,
    gzip,
    gzipBase64: base64(gzip),
    gzipOnly: limited.filter(fitsGzip).map((l) => l.platform),
    over: limited.filter((l) => !fitsGzip(l)).map((l) => l.platform),
  };
}

export const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

/** One line per host for the command's output, then one warning per platform no form fits. */
export function sizeReport(seeds: readonly HostSeed[]): { lines: string[]; warnings: string[] } {
  const sizes = measure(seeds);
  const lines = sizes.map((s) => {
    const notes = [...(s.gzipOnly.length ? [`${s.gzipOnly.join(', ')}: attach user-data.gz`] : []), ...(s.over.length ? [`over ${s.over.join(', ')}`] : [])];
    return `  ${s.host}: user-data ${kib(s.userData)} (gzip ${kib(s.gzip)})${notes.length ? ` — ${notes.join('; ')}` : ''}`;
  });
  const warnings: string[] = [];
  for (const limit of LIMITS.filter((l) => l.bytes !== undefined)) {
    const hosts = sizes.filter((s) => s.over.includes(limit.platform));
    if (!hosts.length) continue;
    warnings.push(
      `user-data of ${hosts.map((h) => h.host).join(', ')} is over ${limit.platform}'s ${kib(limit.bytes!)} limit (${limit.measure}${limit.gzip ? ', even gzip-compressed' : ''}). ` +
        (limit.measure !== 'gzip+base64'
          ? 'Use image: baked (no install steps in user-data); the cidata ISO, Proxmox and libvirt forms have no such limit.'
          : 'Attach the cidata ISO instead (hosts/<host>/seed.iso as the VM\'s CD drive), or use image: baked.'),
    );
  }
  return { lines, warnings };
}
