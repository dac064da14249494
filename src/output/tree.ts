// The whole output is built in memory first (projen/cdk8s style), then written in one step.

export interface OutputFile { path: string; content: string | Uint8Array; mode: number }

/** Names the writer keeps for itself at the top of an output folder (manifest, lock, staging). */
export const RESERVED_PREFIX = '.kubebake-';

/**
 * A path kubebake could have written: relative, '/'-separated, no empty, '.' or '..' segment, no
 * NUL or backslash, not one of the writer's own names. The writer also applies it to the
 * manifest's keys, which are read from disk and so are input, not trusted data.
 */
export function isTreePath(path: string): boolean {
  if (path.length === 0 || path.length > 4096 || /[\\\0]/.test(path)) return false;
  const parts = path.split('/');
  if (parts[0]!.startsWith(RESERVED_PREFIX)) return false;
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && p.length <= 255);
}

export class FileTree {
  readonly #files = new Map<string, OutputFile>();

  /** Adds a file; a path added twice is a bug in a renderer, not an input error. */
  add(path: string, content: string | Uint8Array, mode = 0o644): this {
    if (!isTreePath(path)) throw new Error(`bad output path ${path}`);
    if (this.#files.has(path)) throw new Error(`two renderers produced ${path}`);
    this.#files.set(path, { path, content, mode });
    return this;
  }

  merge(other: FileTree, under = ''): this {
    for (const f of other.files()) this.add(under ? `${under}/${f.path}` : f.path, f.content, f.mode);
    return this;
  }

  get(path: string): OutputFile | undefined {
    return this.#files.get(path);
  }

  /** Files in path order, so every consumer (writer, tar, goldens) is deterministic. */
  files(): OutputFile[] {
    return [...this.#files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
