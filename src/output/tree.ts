// The whole output is built in memory first (projen/cdk8s style), then written in one step.

export interface OutputFile { path: string; content: string | Uint8Array; mode: number }

export class FileTree {
  readonly #files = new Map<string, OutputFile>();

  /** Adds a file; a path added twice is a bug in a renderer, not an input error. */
  add(path: string, content: string | Uint8Array, mode = 0o644): this {
    if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '')) throw new Error(`bad output path ${path}`);
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
