import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDiagnostics } from '../diagnostics/print.js';
import { buildPlan, withSecrets } from '../plan/plan.js';
import { loadOrCreateSecrets, SECRET_FILES } from '../plan/secrets.js';
import { renderCloudInitTree } from '../render/cloud-init/cluster.js';
import { writeTree } from '../output/write.js';
import type { FileTree } from '../output/tree.js';
import { EXIT } from './exit.js';
import { loadAndReport } from './validate.js';

export interface RenderOptions { file: string; out: string; strict?: boolean; check?: boolean; force?: boolean; rotateToken?: boolean }

/** `render cloud-init`: topology → plan (+ stored secrets) → files under <out>/<cluster>/. */
export async function runRenderCloudInit(opts: RenderOptions): Promise<number> {
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  const clusterDir = join(opts.out, loaded.topology.name);
  // --check writes nothing: without stored secrets it renders with throw-away ones.
  const scratch = opts.check ? await mkdtemp(join(tmpdir(), 'kubebake-check-')) : undefined;
  try {
    const stored = await loadOrCreateSecrets(join(scratch ?? clusterDir, 'secrets'), { rotateToken: opts.rotateToken });
    if ('diagnostics' in stored) {
      process.stderr.write(formatDiagnostics(stored.diagnostics));
      return EXIT.invalid;
    }
    if (stored.warnings.length) process.stderr.write(formatDiagnostics(stored.warnings));
    if (!opts.check) reportCreated(stored.created, join(clusterDir, 'secrets'));
    const tree = renderCloudInitTree(withSecrets(buildPlan(loaded.topology), stored.secrets));
    return await emit(tree, clusterDir, opts);
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/** Names what the secrets store gained (file names only: secrets are never printed). */
function reportCreated(created: string[], dir: string): void {
  if (created.includes(SECRET_FILES.caKey)) process.stderr.write(`created cluster secrets in ${dir} (keep them safe; never commit them)\n`);
  else for (const file of created) process.stderr.write(`created ${join(dir, file)}\n`);
}

/** Writes a rendered tree (or, with --check, only reports it). */
export async function emit(tree: FileTree, dir: string, opts: RenderOptions): Promise<number> {
  if (opts.check) {
    process.stdout.write(`check: ${tree.files().length} files would be written under ${dir}\n`);
    return EXIT.ok;
  }
  const result = await writeTree(dir, tree, { force: opts.force });
  if ('diagnostics' in result) {
    process.stderr.write(formatDiagnostics(result.diagnostics));
    return EXIT.invalid;
  }
  process.stdout.write(
    `${dir}: ${result.written.length} written, ${result.unchanged.length} unchanged${result.removed.length ? `, ${result.removed.length} removed` : ''}\n`,
  );
  return EXIT.ok;
}
