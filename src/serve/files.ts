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
}

export interface ServedHost { name: string; mac?: string }

/** The table of servable files of a cluster. */
export function servedFiles(hosts: readonly ServedHost[]): Map<string, ServedFile> {
  const table = new Map<string, ServedFile>();
  const add = (rel: string, label: string, host?: string): void => void table.set(rel, { rel, label, host });
  for (const shared of ['hosts.json', 'boot.ipxe', 'grub/grub.cfg']) add(shared, shared);
  for (const h of hosts) {
    for (const f of SEED_FILES) add(`nocloud/${h.name}/${f}`, f, h.name);
    add(`autoinstall/${h.name}.yaml`, 'autoinstall', h.name);
    add(`preseed/${h.name}.cfg`, 'preseed', h.name);
    if (h.mac) {
      // iPXE's ${mac} is colon-separated lower case; ${mac:hexhyp} uses hyphens.
      const mac = h.mac.toLowerCase();
      add(`ipxe/${mac}.ipxe`, 'ipxe', h.name);
      add(`ipxe/${mac.replace(/:/g, '-')}.ipxe`, 'ipxe', h.name);
    }
  }
  return table;
}

/** The operator's boot files (kernels, initrds, iPXE and GRUB binaries): one level under boot/. */
const BOOT_FILE = /^boot\/[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

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
  [/\.(ipxe|cfg)$/, 'text/plain; charset=utf-8'],
  [/^nocloud\//, 'text/plain; charset=utf-8'],
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
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    return undefined;
  }
  return { fh, st };
}
