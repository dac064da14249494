// Reproducible tar archives through tar-stream (FACTS.md: with a fixed mtime two packs are
// byte-identical). Entries are sorted by path, owned by root (uid/gid 0, no user names) and keep
// their modes, so user-data and secrets stay 0600 when an operator unpacks them as root.
import tar from 'tar-stream';

export interface TarEntry { path: string; content: string | Uint8Array; mode: number }

/** Every entry's modification time (the same instant as the ISO's). */
export async function buildTar(entries: readonly TarEntry[], mtime: Date): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => chunks.push(c as Buffer));
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const e of sorted) {
    const body = typeof e.content === 'string' ? Buffer.from(e.content, 'utf8') : Buffer.from(e.content);
    pack.entry({ name: e.path, mode: e.mode, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file', size: body.length }, body);
  }
  pack.finalize();
  await done;
  const out = Buffer.concat(chunks);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
