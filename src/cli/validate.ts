import { hasErrors } from '../diagnostics/diagnostic.js';
import { formatDiagnostics, redactDiagnostic } from '../diagnostics/print.js';
import { readTopology, type LoadResult } from '../topology/load.js';
import { EXIT } from './exit.js';

export interface ValidateOptions { file: string; strict?: boolean; json?: boolean }

/** Loads and checks a topology, prints its diagnostics; returns the exit code. */
export async function runValidate(opts: ValidateOptions): Promise<number> {
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  if (!opts.json) process.stdout.write(`${opts.file}: valid cluster "${loaded.topology.name}" (${loaded.topology.hosts.length} hosts)\n`);
  return EXIT.ok;
}

/**
 * Shared by every command that reads a topology: prints diagnostics to stderr (or JSON to
 * stdout) and, under --strict, turns warnings into a failure. `topology` is unset on failure.
 */
export async function loadAndReport(opts: ValidateOptions): Promise<LoadResult> {
  const loaded = await readTopology(opts.file);
  const failed = hasErrors(loaded.diagnostics) || (opts.strict === true && loaded.diagnostics.length > 0);
  if (opts.json) process.stdout.write(JSON.stringify({ valid: !failed, diagnostics: loaded.diagnostics.map(redactDiagnostic) }, null, 2) + '\n');
  else if (loaded.diagnostics.length) process.stderr.write(formatDiagnostics(loaded.diagnostics, loaded.source));
  if (failed) return { ...loaded, topology: undefined };
  return loaded;
}
