// Reproducible tar archives through tar-stream (FACTS.md: with a fixed mtime two packs are
// byte-identical). Entries are sorted by path, owned by root (uid/gid 0, no user names) and keep
// their modes, so user-data and secrets stay 0600 when an operator unpacks them as root.
import tar from 'tar-stream';
import { byPath } from '../../output/tree.js';
import { digestOf, sha256Hex, type ContentDigest } from '../../util/digest.js';

/** As ISO9660_FORMAT (iso9660.ts): part of every archive's key; change it with any change to the bytes. */
export const TAR_FORMAT = 'kubebake-tar/1 tar-stream';

export interface TarEntry { path: string; content: string | Uint8Array; mode: number }

/**
 * The archive chunk by chunk, each entry encoded only once the one before it was taken: a
 * 5,000-host seeds.tar (81 MiB) never sits in memory whole. `mtime` is every entry's modification
 * time (the same instant as the ISO's).
 */
export async function* tarChunks(entries: readonly TarEntry[], mtime: Date): AsyncGenerator<Uint8Array> {
  const pack = tar.pack();
  const sorted = [...entries].sort(byPath);
  const feed = (i: number): void => {
    if (i === sorted.length) return void pack.finalize();
    const e = sorted[i]!;
    const content = e.content;
    const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
    const header = { name: e.path, mode: e.mode, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file' as const, size: body.length };
    // tar-stream calls back once the entry's bytes are in the pack, which takes them as they are read.
    pack.entry(header, body, (err) => (err ? pack.destroy(err) : feed(i + 1)));
  };
  feed(0);
  for await (const chunk of pack) yield chunk as Uint8Array;
}

/** A digest of everything an archive's bytes depend on (see TAR_FORMAT); `digest` hashes each entry's content. */
export const tarKey = (entries: readonly TarEntry[], mtime: Date, digest: ContentDigest = sha256Hex): string =>
  digestOf([TAR_FORMAT, mtime.toISOString(), ...[...entries].sort(byPath).flatMap((e) => [e.path, String(e.mode), digest(e.content)])]);

/** The whole archive in memory (small ones: a bundle's). */
export async function buildTar(entries: readonly TarEntry[], mtime: Date): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of tarChunks(entries, mtime)) chunks.push(c);
  const out = Buffer.concat(chunks);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
