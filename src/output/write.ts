// Writes a FileTree under a folder. Re-rendering our own output is the normal loop and just
// works; a file a person edited by hand (or that kubebake never wrote) is not silently replaced.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { mapLimit } from '../util/map-limit.js';
import type { FileTree } from './tree.js';

export const MANIFEST = '.kubebake-manifest.json';

interface Manifest { generator: 'kubebake'; files: Record<string, string> }

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  const raw = await readIfExists(join(dir, MANIFEST));
  if (!raw) return undefined;
  try {
    const m = JSON.parse(raw.toString('utf8')) as Manifest;
    return m.generator === 'kubebake' && typeof m.files === 'object' ? m : undefined;
  } catch {
    return undefined;
  }
}

export interface WriteResult { written: string[]; unchanged: string[]; removed: string[] }

/**
 * Checks first, then writes: each file goes to a temporary name and is renamed into place, and
 * the manifest (path → sha256 of what kubebake wrote) is replaced last.
 */
export async function writeTree(dir: string, tree: FileTree, opts: { force?: boolean } = {}): Promise<WriteResult | { diagnostics: Diagnostic[] }> {
  const manifest = await readManifest(dir);
  const known = manifest?.files ?? {};
  const files = tree.files();
  const conflicts: Diagnostic[] = [];
  const onDisk = new Map<string, Buffer | undefined>();
  for (const f of files) {
    const current = await readIfExists(join(dir, f.path));
    onDisk.set(f.path, current);
    if (!current || opts.force) continue;
    const ours = known[f.path];
    if (ours === undefined && sha256(current) !== sha256(f.content)) conflicts.push(conflict(dir, f.path, 'was not written by kubebake'));
    else if (ours !== undefined && ours !== sha256(current)) conflicts.push(conflict(dir, f.path, 'was edited since kubebake wrote it'));
  }
  const stale = Object.keys(known).filter((p) => !tree.get(p));
  if (!opts.force) {
    for (const p of stale) {
      const current = await readIfExists(join(dir, p));
      if (current && sha256(current) !== known[p]) conflicts.push(conflict(dir, p, 'is no longer produced but was edited by hand'));
    }
  }
  if (conflicts.length) return { diagnostics: conflicts };

  const result: WriteResult = { written: [], unchanged: [], removed: [] };
  const next: Manifest = { generator: 'kubebake', files: {} };
  for (const f of files) next.files[f.path] = sha256(f.content);
  // Files are independent: write a few at a time (a large cluster has thousands of small files,
  // and one by one the file system's latency dominates). Results keep the tree's order.
  const outcomes = await mapLimit(files, WRITE_CONCURRENCY, async (f): Promise<'written' | 'unchanged'> => {
    const target = join(dir, f.path);
    const current = onDisk.get(f.path);
    if (current && sha256(current) === next.files[f.path]) {
      await chmod(target, f.mode);
      return 'unchanged';
    }
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.kubebake-tmp`;
    await writeFile(tmp, f.content, { mode: f.mode });
    await chmod(tmp, f.mode); // the umask may have narrowed it
    await rename(tmp, target);
    return 'written';
  });
  files.forEach((f, i) => result[outcomes[i]!].push(f.path));
  for (const p of stale) {
    await rm(join(dir, p), { force: true });
    result.removed.push(p);
  }
  const tmp = join(dir, `${MANIFEST}.tmp`);
  await writeFile(tmp, JSON.stringify(next, null, 2) + '\n');
  await rename(tmp, join(dir, MANIFEST));
  return result;
}

const WRITE_CONCURRENCY = 16;

function conflict(dir: string, path: string, why: string): Diagnostic {
  return {
    severity: 'error',
    code: 'output.hand-edited',
    path: [],
    file: join(dir, path),
    message: `${join(dir, path)} ${why}; kubebake will not replace it`,
    hint: 'change the topology instead and move the file away, or re-run with --force to overwrite',
  };
}
