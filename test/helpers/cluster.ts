import { readdirSync, readFileSync } from 'node:fs';
import { buildPlan, withSecrets, type RenderPlan } from '../../src/plan/plan.js';
import type { Secrets } from '../../src/plan/secrets.js';
import { loadOrCreateSecrets } from '../../src/store/secrets-store.js';
import { renderCloudInit } from '../../src/render/cloud-init/cluster.js';
import type { HostSeed } from '../../src/render/delivery/seeds.js';
import { contentOf, held, type FileTree, type OutputFile } from '../../src/output/tree.js';
import type { Topology } from '../../src/topology/types.js';
import { profile, repoPath } from './repo.js';

/**
 * Test-only cluster secrets, committed under test/fixtures/secrets so goldens are stable.
 * They protect nothing; never use them for a real cluster.
 */
export const FIXTURE_SECRETS_DIR = repoPath('test', 'fixtures', 'secrets');
/** The fixture's certificates are checked for expiry against this instant, not the wall clock. */
export const FIXTURE_NOW = new Date('2026-11-26T12:00:00Z');

let cached: Secrets | undefined;
export async function fixtureSecrets(): Promise<Secrets> {
  if (cached) return cached;
  const r = await loadOrCreateSecrets(FIXTURE_SECRETS_DIR, { now: FIXTURE_NOW });
  if ('diagnostics' in r) throw new Error(`fixture secrets: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  cached = r.secrets;
  return cached;
}

export async function renderPlan(t: Topology): Promise<RenderPlan> {
  return withSecrets(buildPlan(t), await fixtureSecrets());
}

/** A profile's render: its files, and the seeds the delivery forms serialise. */
export async function renderProfile(name: string): Promise<{ plan: RenderPlan; tree: FileTree; seeds: HostSeed[] }> {
  const plan = await renderPlan(profile(name));
  const { tree, seeds } = renderCloudInit(plan);
  return { plan, tree, seeds };
}

export const PROFILES = readdirSync(repoPath('profiles'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

export const text = (tree: FileTree, path: string): string => {
  const f = tree.get(path);
  if (!f) throw new Error(`no ${path} in the tree`);
  const content = held(f);
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
};

/** A tree's files with every built one (ISOs, tars, vSphere files) read whole: what tests read. */
export class HeldTree {
  readonly #files: Map<string, OutputFile>;
  constructor(files: OutputFile[]) {
    this.#files = new Map(files.map((f) => [f.path, f]));
  }
  static async of(tree: FileTree): Promise<HeldTree> {
    return new HeldTree(await Promise.all(tree.files().map(async (f) => ({ path: f.path, mode: f.mode, content: await contentOf(f) }))));
  }
  get(path: string): OutputFile | undefined {
    return this.#files.get(path);
  }
  files(): OutputFile[] {
    return [...this.#files.values()];
  }
}

export const readText = (path: string): string => readFileSync(path, 'utf8');
