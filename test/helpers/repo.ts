import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadTopology } from '../../src/topology/load.js';
import type { Topology } from '../../src/topology/types.js';

/** The repository root (tests run from dist/test/…, which mirrors the tree). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export const repoPath = (...parts: string[]): string => join(REPO, ...parts);

/** Loads a profile and fails loudly if it is not valid (profiles are test inputs). */
export function profile(name: string): Topology {
  const file = repoPath('profiles', `${name}.yaml`);
  const loaded = loadTopology(readFileSync(file, 'utf8'), file);
  if (!loaded.topology) throw new Error(`profile ${name} is invalid: ${loaded.diagnostics.map((d) => d.message).join('; ')}`);
  return loaded.topology;
}

/** Loads a topology from text (with edits applied by the caller). */
export function topologyFrom(text: string, file = 'test.yaml'): Topology {
  const loaded = loadTopology(text, file);
  if (!loaded.topology) throw new Error(`invalid topology: ${loaded.diagnostics.map((d) => `${d.path.join('.')}: ${d.message}`).join('; ')}`);
  return loaded.topology;
}
