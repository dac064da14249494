// A small ISO 9660 writer for NoCloud seeds: one root directory of regular files, with Joliet
// (what Windows-based hypervisors such as Hyper-V read) and Rock Ridge (what Linux, and so
// cloud-init, reads: real names, modes, times). No library does this in JavaScript without a
// native tool, so it is written here and read back in tests by tools nobody on the team wrote
// (xorriso, isoinfo, the Linux kernel of a booted VM).
//
// Standards followed: ECMA-119 (ISO 9660) for the volume and directory records, the Joliet
// specification (UCS-2 supplementary volume descriptor, escape sequence %/E), SUSP 1.10 / RRIP
// 1.10 (IEEE P1281/P1282 drafts as mkisofs implements them: SP, CE, ER, RR, PX, NM, TF).
//
// Output depends only on the inputs: every timestamp is `time` (fixed by the caller), files are
// laid out in name order, and nothing reads the clock or the environment.

import { digestOf, sha256Hex, type ContentDigest } from '../../util/digest.js';
import { zeros } from '../../output/tree.js';

/**
 * The writer's format: part of every image's key (output/tree.ts), so a re-render keeps an image
 * only if this writer would make the same bytes. Change it with any change to the bytes (the
 * delivery golden test refuses new image hashes under an old key).
 */
export const ISO9660_FORMAT = 'kubebake-iso9660/1';

const SECTOR = 2048;
/** mkisofs and xorriso pad images by 300 KiB: some readers fail on the very last sectors otherwise. */
const PAD_SECTORS = 150;

export interface IsoFile {
  /** The real name (Rock Ridge and Joliet carry it; ISO 9660 level 1 gets an 8.3 form). */
  name: string;
  content: string | Uint8Array;
  /** Permission bits recorded by Rock Ridge, e.g. 0o600. */
  mode: number;
}

export interface IsoOptions {
  /** Volume label, e.g. "cidata" (NoCloud looks for it). At most 16 characters (Joliet's limit). */
  volumeId: string;
  files: readonly IsoFile[];
  /** Every timestamp in the image. */
  time: Date;
  /** Application id recorded in the volume descriptors. */
  application?: string;
}

// --- little helpers for ECMA-119's field encodings -------------------------------------------

function both16(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16LE(v, 0);
  b.writeUInt16BE(v, 2);
  return b;
}

function both32(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(v, 0);
  b.writeUInt32BE(v, 4);
  return b;
}

/**
 * `make` remembering what it made, by `key`: every seed ISO has the same names, modes and time,
 * so its Rock Ridge entries are the same bytes each time (shared: callers copy, never write into them).
 */
function remembered<T extends unknown[]>(key: (...args: T) => string | number, make: (...args: T) => Buffer): (...args: T) => Buffer {
  const made = new Map<string | number, Buffer>();
  return (...args) => {
    const k = key(...args);
    let b = made.get(k);
    if (b === undefined) made.set(k, (b = make(...args)));
    return b;
  };
}

/** 7-byte directory-record time (years since 1900 … seconds, GMT offset 0). */
const shortTime = remembered(
  (t: Date) => t.getTime(),
  (t) => Buffer.from([t.getUTCFullYear() - 1900, t.getUTCMonth() + 1, t.getUTCDate(), t.getUTCHours(), t.getUTCMinutes(), t.getUTCSeconds(), 0]),
);

/** 17-byte volume-descriptor time ("YYYYMMDDHHMMSScc" + GMT offset), or "not specified". */
function longTime(t: Date | undefined): Buffer {
  if (!t) return Buffer.concat([Buffer.from('0000000000000000', 'ascii'), Buffer.from([0])]);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = `${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(s, 'ascii'), Buffer.from([0])]);
}

const ascii = (s: string, len: number): Buffer => Buffer.from(s.padEnd(len, ' ').slice(0, len), 'ascii');

function ucs2be(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

/** A UCS-2 text field padded with UCS-2 spaces (Joliet descriptor fields). */
function ucs2Field(s: string, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i + 1 < len; i += 2) b.writeUInt16BE(0x20, i);
  ucs2be(s).copy(b, 0, 0, Math.min(len - (len % 2), s.length * 2));
  return b;
}

const sectors = (bytes: number): number => Math.ceil(bytes / SECTOR);

/**
 * ISO 9660 level 1 name: 8.3 d-characters (A-Z, 0-9, _) plus ";1". "user-data" → "USER_DAT.;1",
 * as mkisofs maps it. Readers with Rock Ridge or Joliet show the real name instead.
 */
export function level1Name(name: string): string {
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot + 1)] : [name, ''];
  const d = (s: string, n: number): string => s.toUpperCase().replace(/[^A-Z0-9_]/g, '_').slice(0, n);
  return `${d(base, 8)}.${d(ext, 3)};1`;
}

// --- System Use Sharing Protocol / Rock Ridge entries ----------------------------------------

const suEntry = (sig: string, body: Buffer): Buffer => Buffer.concat([Buffer.from(sig, 'ascii'), Buffer.from([4 + body.length, 1]), body]);

const RR_ID = 'RRIP_1991A';
const RR_DESCRIPTOR = 'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const RR_SOURCE = 'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

/** ER: names the extension (RRIP 1.10). Too long for the root's record, so it lives in a continuation area. */
function erEntry(): Buffer {
  const body = Buffer.concat([
    Buffer.from([RR_ID.length, RR_DESCRIPTOR.length, RR_SOURCE.length, 1]),
    Buffer.from(RR_ID + RR_DESCRIPTOR + RR_SOURCE, 'ascii'),
  ]);
  return suEntry('ER', body);
}

/** PX (RRIP 1.10 form, without the serial number): mode, links, uid, gid. */
const pxEntry = (mode: number, links: number): Buffer => suEntry('PX', Buffer.concat([both32(mode), both32(links), both32(0), both32(0)]));
/** TF: modification, access and attribute-change times. */
const tfEntry = (t: Date): Buffer => suEntry('TF', Buffer.concat([Buffer.from([0x0e]), shortTime(t), shortTime(t), shortTime(t)]));
/** NM: the real file name. */
const nmEntry = (name: string): Buffer => suEntry('NM', Buffer.concat([Buffer.from([0]), Buffer.from(name, 'utf8')]));
/** RR (RRIP 1.10): which Rock Ridge entries this record carries (PX=1, NM=8, TF=128). */
const rrEntry = (flags: number): Buffer => suEntry('RR', Buffer.from([flags]));
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** A file's Rock Ridge entries: its mode, times and real name. */
const fileSystemUse = remembered(
  (name: string, mode: number, t: Date) => `${name}\0${mode}\0${t.getTime()}`,
  (name, mode, t) => Buffer.concat([rrEntry(0x89), pxEntry(S_IFREG | (mode & 0o7777), 1), tfEntry(t), nmEntry(name)]),
);

// --- records ---------------------------------------------------------------------------------

/** ECMA-119 9.1, written in place (the fields' offsets are in the comments). */
function dirRecord(opts: { extent: number; size: number; dir: boolean; id: Buffer; time: Date; systemUse?: Buffer }): Buffer {
  const idLen = opts.id.length;
  const pad = idLen % 2 === 0 ? 1 : 0; // the record's fixed part (33) + id must end on an even offset
  const suLen = opts.systemUse?.length ?? 0;
  const len = 33 + idLen + pad + suLen;
  if (len > 255) throw new Error(`ISO 9660 directory record too long (${len} bytes)`);
  const b = Buffer.alloc(len);
  b[0] = len; // 1: extended attribute record length, 0
  b.writeUInt32LE(opts.extent, 2);
  b.writeUInt32BE(opts.extent, 6);
  b.writeUInt32LE(opts.size, 10);
  b.writeUInt32BE(opts.size, 14);
  shortTime(opts.time).copy(b, 18); // 18-24
  b[25] = opts.dir ? 0x02 : 0x00; // flags; 26, 27: file unit size and interleave gap, 0
  b.writeUInt16LE(1, 28); // volume sequence number, both byte orders
  b.writeUInt16BE(1, 30);
  b[32] = idLen;
  opts.id.copy(b, 33);
  opts.systemUse?.copy(b, 33 + idLen + pad);
  return b;
}

/** One directory's bytes: records never cross a sector boundary (ECMA-119 6.8.1.1). */
function directoryExtent(records: Buffer[]): Buffer {
  const out: Buffer[] = [];
  let used = 0;
  for (const r of records) {
    if (used + r.length > SECTOR) {
      out.push(Buffer.alloc(SECTOR - used));
      used = 0;
    }
    out.push(r);
    used = (used + r.length) % SECTOR;
  }
  const total = Buffer.concat(out);
  return Buffer.concat([total, Buffer.alloc(sectors(total.length) * SECTOR - total.length)]);
}

function pathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 1; // length of the root's identifier (0x00)
  b[1] = 0;
  if (bigEndian) b.writeUInt32BE(rootExtent, 2);
  else b.writeUInt32LE(rootExtent, 2);
  if (bigEndian) b.writeUInt16BE(1, 6);
  else b.writeUInt16LE(1, 6);
  return b; // id 0x00 and one pad byte stay zero
}

function volumeDescriptor(opts: {
  type: 1 | 2;
  volumeId: Buffer;
  systemId: Buffer;
  textField: (s: string, len: number) => Buffer;
  totalSectors: number;
  pathTableSize: number;
  lPath: number;
  mPath: number;
  root: Buffer;
  time: Date;
  application: string;
}): Buffer {
  const d = Buffer.alloc(SECTOR);
  d[0] = opts.type;
  d.write('CD001', 1, 'ascii');
  d[6] = 1;
  opts.systemId.copy(d, 8);
  opts.volumeId.copy(d, 40);
  both32(opts.totalSectors).copy(d, 80);
  // Joliet: escape sequence %/E announces UCS-2 level 3.
  if (opts.type === 2) d.write('%/E', 88, 'ascii');
  both16(1).copy(d, 120);
  both16(1).copy(d, 124);
  both16(SECTOR).copy(d, 128);
  both32(opts.pathTableSize).copy(d, 132);
  d.writeUInt32LE(opts.lPath, 140);
  d.writeUInt32BE(opts.mPath, 148);
  opts.root.copy(d, 156);
  opts.textField('', 128).copy(d, 190); // volume set
  opts.textField('', 128).copy(d, 318); // publisher
  opts.textField('', 128).copy(d, 446); // data preparer
  opts.textField(opts.application, 128).copy(d, 574);
  opts.textField('', 37).copy(d, 702);
  opts.textField('', 37).copy(d, 739);
  opts.textField('', 37).copy(d, 776);
  longTime(opts.time).copy(d, 813);
  longTime(opts.time).copy(d, 830);
  longTime(undefined).copy(d, 847);
  longTime(undefined).copy(d, 864);
  d[881] = 1;
  return d;
}

/**
 * Throws on inputs a renderer should never produce (two files with one 8.3 name…). Called by the
 * key too: a render finds such a bug before it writes anything, not when the writer builds the image.
 */
function checkIso(opts: IsoOptions): void {
  if (!/^[A-Za-z0-9_]{1,16}$/.test(opts.volumeId)) throw new Error(`bad ISO volume id ${opts.volumeId}`);
  for (const f of opts.files) {
    if (!/^[^/\0]{1,64}$/.test(f.name)) throw new Error(`bad ISO file name ${f.name}`);
  }
  if (new Set(opts.files.map((f) => level1Name(f.name))).size !== opts.files.length) throw new Error('two files share an ISO 9660 8.3 name');
}

/** A digest of everything an image's bytes depend on (see ISO9660_FORMAT); `digest` hashes each file's content. */
export function iso9660Key(opts: IsoOptions, digest: ContentDigest = sha256Hex): string {
  checkIso(opts);
  return digestOf([ISO9660_FORMAT, opts.volumeId, opts.application ?? '', opts.time.toISOString(), ...opts.files.flatMap((f) => [f.name, String(f.mode), digest(f.content)])]);
}

/** Builds the image. Throws on inputs a renderer should never produce (two files with one 8.3 name…). */
export function buildIso9660(opts: IsoOptions): Uint8Array {
  const out = Buffer.concat(iso9660Chunks(opts));
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The system area (sectors 0-15, unused on a CD-ROM): zeros every image shares. */
const SYSTEM_AREA_SECTORS = 16;
const SYSTEM_AREA = zeros(SYSTEM_AREA_SECTORS * SECTOR);
/** The trailing padding: one zero chunk that every image shares. */
const PADDING = zeros(PAD_SECTORS * SECTOR);

/**
 * The image as three chunks: the system area, the volume descriptors and everything after them,
 * then the padding. A seed ISO is 370 KiB, of which the padding is 300 and the system area 32:
 * zero chunks cost no memory and no disk block, and are not hashed (output/tree.ts `zeros`).
 */
export function iso9660Chunks(opts: IsoOptions): [Uint8Array, Uint8Array, Uint8Array] {
  const { time } = opts;
  checkIso(opts);
  const files = [...opts.files]
    .map((f) => ({ ...f, data: typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : Buffer.from(f.content), iso: level1Name(f.name) }))
    .sort((a, b) => (a.iso < b.iso ? -1 : a.iso > b.iso ? 1 : 0));

  // Sector map: system area, PVD, Joliet SVD, terminator, four path tables, the Rock Ridge
  // continuation area, the two root directories, then each file's data.
  const LPATH = 19, MPATH = 20, JLPATH = 21, JMPATH = 22, CONTINUATION = 23, ROOT = 24;
  const rootRecordsFor = (rootSectors: number, jolietSectors: number, firstData: number) => {
    const extents: number[] = [];
    let next = firstData;
    for (const f of files) {
      extents.push(next);
      next += sectors(f.data.length);
    }
    return { joliet: ROOT + rootSectors, extents, end: next, rootSectors, jolietSectors };
  };

  const er = erEntry();
  const continuation = Buffer.concat([er, Buffer.alloc(SECTOR - er.length)]);
  const ce = suEntry('CE', Buffer.concat([both32(CONTINUATION), both32(0), both32(er.length)]));
  const sp = suEntry('SP', Buffer.from([0xbe, 0xef, 0]));
  const dirSu = Buffer.concat([rrEntry(0x81), pxEntry(S_IFDIR | 0o755, 2), tfEntry(time)]);

  const isoRecords = (rootExtent: number, rootSize: number, extents: number[]): Buffer[] => [
    dirRecord({ extent: rootExtent, size: rootSize, dir: true, id: Buffer.from([0]), time, systemUse: Buffer.concat([sp, ce, dirSu]) }),
    dirRecord({ extent: rootExtent, size: rootSize, dir: true, id: Buffer.from([1]), time, systemUse: dirSu }),
    ...files.map((f, i) =>
      dirRecord({
        extent: extents[i]!,
        size: f.data.length,
        dir: false,
        id: Buffer.from(f.iso, 'ascii'),
        time,
        systemUse: fileSystemUse(f.name, f.mode, time),
      }),
    ),
  ];
  const jolietFiles = [...files].sort((a, b) => ucs2be(a.name).compare(ucs2be(b.name)));
  const jolietRecords = (rootExtent: number, rootSize: number, extents: number[]): Buffer[] => [
    dirRecord({ extent: rootExtent, size: rootSize, dir: true, id: Buffer.from([0]), time }),
    dirRecord({ extent: rootExtent, size: rootSize, dir: true, id: Buffer.from([1]), time }),
    ...jolietFiles.map((f) =>
      dirRecord({ extent: extents[files.indexOf(f)]!, size: f.data.length, dir: false, id: ucs2be(`${f.name};1`), time }),
    ),
  ];

  // Directory sizes do not depend on extents (fixed-width fields), so measure with zeros first.
  const rootSectors = sectors(directoryExtent(isoRecords(0, 0, files.map(() => 0))).length);
  const jolietSectors = sectors(directoryExtent(jolietRecords(0, 0, files.map(() => 0))).length);
  const layout = rootRecordsFor(rootSectors, jolietSectors, ROOT + rootSectors + jolietSectors);
  const total = layout.end + PAD_SECTORS;

  const rootDir = directoryExtent(isoRecords(ROOT, rootSectors * SECTOR, layout.extents));
  const jolietDir = directoryExtent(jolietRecords(layout.joliet, jolietSectors * SECTOR, layout.extents));
  const rootRecord = (extent: number, size: number): Buffer => dirRecord({ extent, size, dir: true, id: Buffer.from([0]), time });

  const application = opts.application ?? 'KUBEBAKE';
  const pvd = volumeDescriptor({
    type: 1,
    volumeId: ascii(opts.volumeId, 32),
    systemId: ascii('LINUX', 32),
    textField: ascii,
    totalSectors: total,
    pathTableSize: 10,
    lPath: LPATH,
    mPath: MPATH,
    root: rootRecord(ROOT, rootSectors * SECTOR),
    time,
    application: application.toUpperCase(),
  });
  const svd = volumeDescriptor({
    type: 2,
    volumeId: ucs2Field(opts.volumeId, 32),
    systemId: ucs2Field('LINUX', 32),
    textField: ucs2Field,
    totalSectors: total,
    pathTableSize: 10,
    lPath: JLPATH,
    mPath: JMPATH,
    root: rootRecord(layout.joliet, jolietSectors * SECTOR),
    time,
    application,
  });
  const terminator = Buffer.alloc(SECTOR);
  terminator[0] = 255;
  terminator.write('CD001', 1, 'ascii');
  terminator[6] = 1;

  const image = Buffer.alloc((layout.end - SYSTEM_AREA_SECTORS) * SECTOR);
  const put = (sector: number, data: Buffer): void => void data.copy(image, (sector - SYSTEM_AREA_SECTORS) * SECTOR);
  put(16, pvd);
  put(17, svd);
  put(18, terminator);
  put(LPATH, pathTable(ROOT, false));
  put(MPATH, pathTable(ROOT, true));
  put(JLPATH, pathTable(layout.joliet, false));
  put(JMPATH, pathTable(layout.joliet, true));
  put(CONTINUATION, continuation);
  put(ROOT, rootDir);
  put(layout.joliet, jolietDir);
  files.forEach((f, i) => put(layout.extents[i]!, f.data));
  return [SYSTEM_AREA, new Uint8Array(image.buffer, image.byteOffset, image.length), PADDING];
}
