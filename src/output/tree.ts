// The whole output is built in memory first (projen/cdk8s style), then written in one step.
// Large files made from others (a seed ISO, a tar and vSphere values per host, seeds.tar: 2 GB
// for 5,000 hosts), and per-host scripts that add up (Proxmox, virt-install), are kept as a
// recipe instead of bytes: the writer builds each when it writes it, chunk by chunk, and keeps
// none of them.

/** A file's bytes, chunk by chunk: built again at every call, the same bytes every time. */
export type Chunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Chunks known to be all zeros: what `zeros` returned (see there). */
const zeroChunks = new WeakSet<Uint8Array>();
const zeroChunkOf = new Map<number, Uint8Array>();

/**
 * `length` zero bytes as one chunk, shared by every caller asking for that length (a seed ISO's
 * 300 KiB padding, 1.4 GiB of the 2.1 GiB that 5,000 hosts' delivery forms take). Readers see
 * plain zeros; the writer knows them without looking and leaves them as a hole in the file (a
 * sparse file reads back the same) and does not hash them (output/file-digest.ts). Never write
 * into one.
 */
export function zeros(length: number): Uint8Array {
  let chunk = zeroChunkOf.get(length);
  if (!chunk) {
    zeroChunkOf.set(length, (chunk = new Uint8Array(length)));
    zeroChunks.add(chunk);
  }
  return chunk;
}

/** Whether `chunk` is one of `zeros`' (and so all zeros, known without reading it). */
export const isZeros = (chunk: Uint8Array): boolean => zeroChunks.has(chunk);

/** A file held as its content. */
export interface OutputFile { readonly path: string; readonly content: string | Uint8Array; readonly mode: number; readonly build?: undefined; readonly key?: undefined }
/**
 * A file held as a recipe (FileTree.addBuilt); `contentOf` reads it whole. `key`: a digest of
 * everything its bytes depend on (the builder's format and its inputs), so equal keys mean equal
 * bytes; a re-render that finds the file as it last wrote it, under the same key, builds nothing.
 */
export interface BuiltFile { readonly path: string; readonly build: () => Chunks; readonly mode: number; readonly key?: string; readonly content?: undefined }
export type TreeFile = OutputFile | BuiltFile;

/** Names the writer keeps for itself at the top of an output folder (ledger, lock, staging). */
export const RESERVED_PREFIX = '.kubebake-';

/**
 * A path kubebake could have written: relative, '/'-separated, no empty, '.' or '..' segment, no
 * NUL or backslash, not one of the writer's own names. The writer also applies it to the
 * ledger's keys (ledger.ts), which are read from disk and so are input, not trusted data.
 */
export function isTreePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || /[\\\0]/.test(path)) return false;
  const parts = path.split('/');
  if (parts[0]!.startsWith(RESERVED_PREFIX)) return false;
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && p.length <= 255);
}

/** The content of a file held as content (a renderer's own output, never a built one). */
export function held(file: TreeFile): string | Uint8Array {
  if (file.build !== undefined) throw new Error(`${file.path} is built when written, not held`);
  return file.content;
}

/** A file's whole content: as held, or built and joined (tests, and readers of small trees). */
export async function contentOf(file: TreeFile): Promise<string | Uint8Array> {
  if (file.build === undefined) return file.content;
  const chunks: Uint8Array[] = [];
  for await (const c of file.build()) chunks.push(c);
  return Buffer.concat(chunks);
}

/** Orders files (or tar entries) by path: every consumer of a tree sees the same order. */
export const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export class FileTree {
  readonly #files = new Map<string, TreeFile>();

  /** Adds a file; a path added twice is a bug in a renderer, not an input error. */
  add(path: string, content: string | Uint8Array, mode = 0o644): this {
    return this.#put({ path, content, mode });
  }

  /** Adds a file whose bytes `build` makes when they are needed (and again each time). */
  addBuilt(path: string, build: () => Chunks, mode = 0o644, key?: string): this {
    return this.#put({ path, build, mode, key });
  }

  merge(other: FileTree, under = ''): this {
    for (const f of other.files()) this.#put({ ...f, path: under ? `${under}/${f.path}` : f.path });
    return this;
  }

  get(path: string): TreeFile | undefined {
    return this.#files.get(path);
  }

  /** Files in path order, so every consumer (writer, tar, goldens) is deterministic. */
  files(): TreeFile[] {
    return [...this.#files.values()].sort(byPath);
  }

  #put(file: TreeFile): this {
    if (!isTreePath(file.path)) throw new Error(`bad output path ${file.path}`);
    if (this.#files.has(file.path)) throw new Error(`two renderers produced ${file.path}`);
    this.#files.set(file.path, file);
    return this;
  }
}
