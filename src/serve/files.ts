// Which files of out/<cluster>/pxe/ `kubebake serve` hands out, and how. Only names the plan
// knows (each host's seed and install files, the iPXE script of each MAC, the shared boot
// scripts) plus the operator's kernels directly under boot/; no listing. A request path is
// checked before it is looked up: an encoded slash or dot segment, a backslash or a NUL is
// refused outright, and a file whose real path (after symlinks) leaves the tree is never opened.
import { constants, type Stats } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';

/** The seed files of one host, under nocloud/<host>/ (the NoCloud names cloud-init asks for). */
export const SEED_FILES = ['user-data', 'meta-data', 'network-config', 'vendor-data'] as const;

export interface ServedFile {
  /** Path relative to the tree, with forward slashes. */
  rel: string;
  /** The host a request for it comes from (seed, install and per-MAC files), for its progress. */
  host?: string;
  /** What the progress records as fetched: user-data, ipxe, autoinstall, … */
  label: string;
  /** A per-MAC boot script: answered from the host's install state, not from the file (server.ts). */
  script?: 'ipxe' | 'grub';
  /** Fetched by the host's installer (its config) or system (its seed): it is installing (serve/state.ts). */
  startsInstall?: true;
  /**
   * May carry the host's secrets (a control plane's user-data holds the cluster CAs' keys, a
   * worker's the bootstrap token, every host's its report key; the installer configs embed or
   * fetch it): served only to the host's own address, and not after it joined (server.ts).
   */
  secret?: true;
}

/**
 * A host's files that carry no secret: cloud-init's meta-data (instance id, hostname),
 * network-config (its addresses) and the empty vendor-data. Every other file of a host is
 * treated as secret, including names only hosts.json adds.
 */
const PUBLIC_HOST_FILES = new Set(['meta-data', 'network-config', 'vendor-data']);

export interface ServedHost { name: string; mac?: string }

/** What a host's fetch of `rel` is recorded as: the seed file's own name, or the kind of file. */
const labelOf = (rel: string): string => (rel.startsWith('nocloud/') ? rel.slice(rel.lastIndexOf('/') + 1) : rel.slice(0, rel.indexOf('/')));

/**
 * The table of servable files of a cluster: the names the PXE tree gives each host of the plan
 * (src/render/delivery/pxe/tree.ts), and the paths its index hosts.json lists per known host and
 * as shared (a path that is not plain, or of a host the plan does not have, is ignored).
 */
export function servedFiles(hosts: readonly ServedHost[], index?: unknown): Map<string, ServedFile> {
  const table = new Map<string, ServedFile>();
  const add = (rel: string, host?: string, extra: Pick<ServedFile, 'script' | 'startsInstall'> = {}): void => {
    const secret = host !== undefined && !extra.script && !PUBLIC_HOST_FILES.has(rel.slice(rel.lastIndexOf('/') + 1));
    table.set(rel, { rel, label: host ? labelOf(rel) : rel, host, ...extra, ...(secret ? { secret: true as const } : {}) });
  };
  for (const shared of ['hosts.json', 'boot.ipxe', 'grub/grub.cfg', 'README.md']) add(shared);
  for (const h of hosts) {
    for (const f of SEED_FILES) add(`nocloud/${h.name}/${f}`, h.name, f === 'user-data' ? { startsInstall: true } : {});
    add(`autoinstall/${h.name}.yaml`, h.name);
    add(`autoinstall/${h.name}/user-data`, h.name, { startsInstall: true });
    add(`autoinstall/${h.name}/meta-data`, h.name);
    add(`preseed/${h.name}.cfg`, h.name, { startsInstall: true });
    if (h.mac) {
      // iPXE's ${mac} is colon-separated lower case, ${mac:hexhyp} hyphenated; GRUB looks for grub.cfg-<hyphenated>.
      const mac = h.mac.toLowerCase();
      const hyphens = mac.replace(/:/g, '-');
      add(`ipxe/${mac}.ipxe`, h.name, { script: 'ipxe' });
      add(`ipxe/${hyphens}.ipxe`, h.name, { script: 'ipxe' });
      add(`grub/grub.cfg-${hyphens}`, h.name, { script: 'grub' });
      add(`grub/grub.cfg-01-${hyphens}`, h.name, { script: 'grub' });
    }
  }
  const known = new Set(hosts.map((h) => h.name));
  const plain = (p: unknown): p is string => typeof p === 'string' && 'rel' in requestPath(`/${p}`) && (requestPath(`/${p}`) as { rel: string }).rel === p;
  const idx = (index ?? {}) as { hosts?: Record<string, { files?: unknown }>; shared?: unknown };
  for (const [name, entry] of Object.entries(idx.hosts ?? {})) {
    if (!known.has(name) || !Array.isArray(entry?.files)) continue;
    // The index adds names; it never changes how a name the plan gives is answered.
    for (const p of entry.files) if (plain(p) && !table.has(p)) add(p, name);
  }
  if (Array.isArray(idx.shared)) for (const p of idx.shared) if (plain(p) && !table.has(p)) add(p);
  return table;
}

/** The operator's boot files (kernels, initrds, ISOs, iPXE and GRUB binaries): boot/<file> or boot/<os>/<file>. */
const BOOT_FILE = /^boot(\/[A-Za-z0-9][A-Za-z0-9._+-]{0,127}){1,2}$/;

export type PathCheck = { rel: string } | { status: 400 | 404; why: string };

/**
 * The tree-relative path of a request URL's path, or why it is refused. Every segment is decoded
 * once and must be a plain name: no `.`/`..`, no encoded `/` or `\`, no NUL, no empty segment.
 */
export function requestPath(urlPath: string): PathCheck {
  if (!urlPath.startsWith('/')) return { status: 400, why: 'the path must start with /' };
  const segments = urlPath.slice(1).split('/');
  const decoded: string[] = [];
  for (const raw of segments) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return { status: 400, why: 'malformed percent-encoding' };
    }
    if (s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s)) return { status: 400, why: 'not a plain path' };
    decoded.push(s);
  }
  return { rel: decoded.join('/') };
}

/** The table's entry for a path, or a boot file; undefined for anything else. */
export function lookup(table: Map<string, ServedFile>, rel: string): ServedFile | undefined {
  return table.get(rel) ?? (BOOT_FILE.test(rel) ? { rel, label: 'boot' } : undefined);
}

const TYPES: [RegExp, string][] = [
  [/\.json$/, 'application/json'],
  [/\.ya?ml$/, 'application/yaml'],
  [/\.md$/, 'text/markdown; charset=utf-8'],
  [/\.(ipxe|cfg)$/, 'text/plain; charset=utf-8'],
  [/^(nocloud|autoinstall|grub)\//, 'text/plain; charset=utf-8'],
];

export function contentType(rel: string): string {
  return TYPES.find(([re]) => re.test(rel))?.[1] ?? 'application/octet-stream';
}

/** A strong validator from what identifies this version of the file (inode, size, change time). */
export const etagOf = (st: Stats): string => `"${st.ino.toString(36)}-${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`;

/**
 * Opens a servable file if it is a regular file whose real path is inside `root` (a symlink
 * within the tree is followed; one that leaves it is treated as absent).
 */
export async function openInside(root: string, rel: string): Promise<{ fh: FileHandle; st: Stats } | undefined> {
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(`${root}/${rel}`);
  } catch {
    return undefined;
  }
  if (!real.startsWith(realRoot + sep)) return undefined;
  let fh: FileHandle;
  try {
    fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = await fh.stat().catch(() => undefined);
  if (!st?.isFile()) {
    await fh.close();
    return undefined;
  }
  return { fh, st };
}
