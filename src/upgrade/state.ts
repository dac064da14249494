// Where `kubebake upgrade apply` keeps what it has done: <out>/<cluster>/upgrade/state.json, each
// node's finished actions in order, written (atomically) after every action. A killed apply run
// again with the same target continues with the first action not recorded; every action is safe to
// repeat (cordon and uncordon set a field, the drain evicts what is left, the node's step resumes
// through its runner, the wait reads the API).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from '../output/private-file.js';

/** One node's actions, in order. */
export const ACTIONS = ['cordon', 'drain', 'upgrade', 'ready', 'uncordon'] as const;
export type Action = (typeof ACTIONS)[number];

export interface UpgradeState {
  /** The Kubernetes version this upgrade goes to. */
  target: string;
  from: string;
  startedAt: string;
  /** Finished actions per node. */
  nodes: Record<string, Action[]>;
  /** Every node finished. */
  completedAt?: string;
}

export const stateFile = (clusterDir: string): string => join(clusterDir, 'upgrade', 'state.json');

/** The stored state, or undefined when there is none (or it is not one of ours). */
export async function readUpgradeState(clusterDir: string): Promise<UpgradeState | undefined> {
  let text: string;
  try {
    text = await readFile(stateFile(clusterDir), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const s = JSON.parse(text) as UpgradeState;
    if (typeof s?.target !== 'string' || typeof s.nodes !== 'object' || s.nodes === null) return undefined;
    for (const [k, v] of Object.entries(s.nodes)) s.nodes[k] = Array.isArray(v) ? v.filter((a): a is Action => (ACTIONS as readonly string[]).includes(a)) : [];
    return s;
  } catch {
    return undefined;
  }
}

export async function writeUpgradeState(clusterDir: string, s: UpgradeState): Promise<void> {
  const file = stateFile(clusterDir);
  await mkdir(join(clusterDir, 'upgrade'), { recursive: true, mode: 0o700 });
  // Durable: the only record of how far an interrupted apply got.
  await replaceFile(file, 0o600, `${JSON.stringify(s, null, 2)}\n`, 'durable');
}

/** The node an unfinished upgrade to `target` left midway (some actions done, not all). */
export function nodeInProgress(s: UpgradeState | undefined, target: string): string | undefined {
  if (!s || s.target !== target) return undefined;
  return Object.entries(s.nodes).find(([, done]) => done.length > 0 && done.length < ACTIONS.length)?.[0];
}
