// Signing keys of mirrors (mirrors.*.key, or the file mirrors.*.keyFile names, read next to the
// topology): each parsed as an OpenPGP public key and put in place as openpgp armours it again
// (openpgp-key.ts), so everything after loading sees a checked key (key), as if given inline.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import type { LoadResult } from './load.js';
import { positionDiagnostics } from './position.js';
import type { PackageMirror } from './types.js';

const MAX_KEY_BYTES = 256 * 1024;
const ARMORED = /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n[\s\S]+-----END PGP PUBLIC KEY BLOCK-----\n?$/;
const KEYED = ['kubernetes', 'crio', 'os'] as const;

export async function resolveKeyFiles(loaded: LoadResult, baseDir: string): Promise<LoadResult> {
  const mirrors = loaded.topology?.mirrors;
  if (!mirrors || !KEYED.some((name) => mirrors[name]?.key !== undefined || mirrors[name]?.keyFile !== undefined)) return loaded;
  // Only a topology with a key loads openpgp (`kubebake validate` of others starts without it).
  const { armoredPublicKey } = await import('./openpgp-key.js');
  const diagnostics: Diagnostic[] = [];
  const resolved: Partial<Record<(typeof KEYED)[number], PackageMirror>> = {};
  for (const name of KEYED) {
    const m = mirrors[name];
    if (!m || (m.key === undefined && m.keyFile === undefined)) continue;
    const field = m.keyFile !== undefined ? 'keyFile' : 'key';
    const path = ['mirrors', name, field];
    let text = m.key!;
    if (m.keyFile !== undefined) {
      if (m.key !== undefined) {
        diagnostics.push({ severity: 'error', path, ...msg.keyAndKeyFile() });
        continue;
      }
      try {
        const bytes = await readFile(resolve(baseDir, m.keyFile));
        text = bytes.length <= MAX_KEY_BYTES ? bytes.toString('utf8').replace(/\r\n/g, '\n') : '';
      } catch (e) {
        diagnostics.push({ severity: 'error', path, ...msg.keyFileUnreadable(m.keyFile, (e as NodeJS.ErrnoException).code ?? String(e)) });
        continue;
      }
      if (!ARMORED.test(text)) {
        diagnostics.push({ severity: 'error', path, ...msg.keyFileNotArmored(m.keyFile) });
        continue;
      }
    }
    const key = await armoredPublicKey(text);
    if ('problem' in key) {
      diagnostics.push({ severity: 'error', path, ...msg.keyNotPublic(field === 'keyFile' ? m.keyFile! : `mirrors.${name}.key`, key.problem) });
      continue;
    }
    const { keyFile: _, ...rest } = m;
    resolved[name] = { ...rest, key: key.armored };
  }
  if (diagnostics.length) {
    const all = [...loaded.diagnostics, ...positionDiagnostics(loaded.source, loaded.file, diagnostics)];
    return { ...loaded, diagnostics: all, topology: hasErrors(all) ? undefined : loaded.topology };
  }
  return { ...loaded, topology: { ...loaded.topology!, mirrors: { ...mirrors, ...resolved } } };
}
