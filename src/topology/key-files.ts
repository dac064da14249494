// Signing keys given by file (mirrors.*.keyFile): read next to the topology, checked, and put in
// place of the file name, so everything after loading sees the key itself (key), as if inline.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import type { LoadResult } from './load.js';
import { positionDiagnostics } from './load.js';
import type { PackageMirror } from './types.js';

const MAX_KEY_BYTES = 256 * 1024;
const ARMORED = /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]+-----END PGP PUBLIC KEY BLOCK-----\n?$/;

export async function resolveKeyFiles(loaded: LoadResult, baseDir: string): Promise<LoadResult> {
  const mirrors = loaded.topology?.mirrors;
  if (!mirrors) return loaded;
  const diagnostics: Diagnostic[] = [];
  const resolved: Partial<Record<'kubernetes' | 'crio' | 'os', PackageMirror>> = {};
  for (const name of ['kubernetes', 'crio', 'os'] as const) {
    const m = mirrors[name];
    if (!m?.keyFile) continue;
    const path = ['mirrors', name, 'keyFile'];
    if (m.key) {
      diagnostics.push({ severity: 'error', path, ...msg.keyAndKeyFile() });
      continue;
    }
    try {
      const bytes = await readFile(resolve(baseDir, m.keyFile));
      const text = bytes.length <= MAX_KEY_BYTES ? bytes.toString('utf8').replace(/\r\n/g, '\n') : '';
      if (!ARMORED.test(text)) diagnostics.push({ severity: 'error', path, ...msg.keyFileNotArmored(m.keyFile) });
      const { keyFile: _, ...rest } = m;
      resolved[name] = { ...rest, key: text };
    } catch (e) {
      diagnostics.push({ severity: 'error', path, ...msg.keyFileUnreadable(m.keyFile, (e as NodeJS.ErrnoException).code ?? String(e)) });
    }
  }
  if (diagnostics.length) {
    const all = [...loaded.diagnostics, ...positionDiagnostics(loaded.source, loaded.file, diagnostics)];
    return { ...loaded, diagnostics: all, topology: hasErrors(all) ? undefined : loaded.topology };
  }
  return { ...loaded, topology: { ...loaded.topology!, mirrors: { ...mirrors, ...resolved } } };
}
