// `kubebake manifest` and `kubebake bundle`: what a cluster needs from outside the site.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { msg } from '../diagnostics/messages.js';
import { buildArtifactInventory, formatArtifactInventory } from '../manifest/inventory.js';
import { buildPlan } from '../plan/plan.js';
import { buildBundle } from '../render/bundle/bundle.js';
import { EXIT } from './exit.js';
import { say, usageError } from './say.js';
import { loadAndReport } from './validate.js';

export interface ManifestOptions { file: string; json?: boolean; strict?: boolean }

export async function runManifest(opts: ManifestOptions): Promise<number> {
  // Diagnostics go to stderr even with --json: stdout carries the manifest alone.
  const loaded = await loadAndReport({ file: opts.file, strict: opts.strict });
  if (!loaded.topology) return EXIT.invalid;
  const m = buildArtifactInventory(buildPlan(loaded.topology));
  process.stdout.write(opts.json ? JSON.stringify(m, null, 2) + '\n' : formatArtifactInventory(m));
  return EXIT.ok;
}

export interface BundleOptions { file: string; out: string; strict?: boolean; fetch?: boolean; from?: string }

export async function runBundle(opts: BundleOptions): Promise<number> {
  if (opts.from !== undefined && !/^https?:\/\/\S+\/$/.test(opts.from)) {
    return usageError(msg.badMirrorUrl());
  }
  const loaded = await loadAndReport({ file: opts.file, strict: opts.strict });
  if (!loaded.topology) return EXIT.invalid;
  const m = buildArtifactInventory(buildPlan(loaded.topology));
  const fetched = new Map<string, Uint8Array>();
  if (opts.fetch || opts.from) {
    for (const f of m.files) {
      const url = opts.from ? opts.from + f.path : f.upstream;
      try {
        const r = await fetch(url, { signal: AbortSignal.timeout(120_000) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        fetched.set(f.path, new Uint8Array(await r.arrayBuffer()));
      } catch (e) {
        say(msg.bundleFetchFailed(url, (e as Error).message));
        return EXIT.invalid;
      }
    }
  }
  const tar = await buildBundle(m, fetched);
  const path = join(opts.out, `${m.cluster}-bundle.tar`);
  await mkdir(opts.out, { recursive: true });
  await writeFile(`${path}.tmp`, tar);
  await rename(`${path}.tmp`, path);
  process.stdout.write(`wrote ${path} (${tar.length} bytes${fetched.size ? `, ${fetched.size} files fetched` : ''}); run its fill-mirror.sh on a connected machine\n`);
  return EXIT.ok;
}
