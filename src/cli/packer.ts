// `render packer` and `bake images`: topology → plan → packer/ tree → (verified Packer) → images.
import { join } from 'node:path';
import type { ClusterPlan } from '../plan/plan.js';
import { buildPlan } from '../plan/plan.js';
import { createBuildKey, type BuildKey } from '../packer/build-key.js';
import { DiagnosticError } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { locatePacker } from '../packer/release.js';
import { bakeImages } from '../packer/run.js';
import { buildImageManifests, type ImageManifest as PackerImage } from '../manifest/image-manifest.js';
import { renderPackerTree } from '../render/packer/tree.js';
import { fromEnvironment, imageVariables } from '../render/packer/variables.js';
import { EXIT } from './exit.js';
import { emit, type RenderOptions } from './render.js';
import { say, usageError } from './say.js';
import { loadAndReport } from './validate.js';

/** Variables `bake images` fills in itself: the bake's one-time key pair. */
const KEY_VARIABLES = ['build_ssh_public_key', 'build_ssh_private_key_file'];

const packerDir = (out: string, plan: ClusterPlan): string => join(out, plan.name, 'packer');

/** `render packer`: writes <out>/<cluster>/packer/ (templates, values, scripts, seed, README). */
export async function runRenderPacker(opts: RenderOptions): Promise<number> {
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  const plan = buildPlan(loaded.topology);
  return emit(renderPackerTree(plan), packerDir(opts.out, plan), opts);
}

export interface BakeCliOptions extends Omit<RenderOptions, "check"> {
  only?: string[];
  dryRun?: boolean;
  parallel?: string;
  packerVersion?: string;
  releaseUrl?: string;
  forceBuild?: boolean;
}

/** `bake images`: render packer/, find or fetch a verified Packer, then init/validate/build each image. */
export async function runBakeImages(opts: BakeCliOptions): Promise<number> {
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  const plan = buildPlan(loaded.topology);

  const all = buildImageManifests(plan);
  const unknown = (opts.only ?? []).filter((n) => !all.some((i) => i.name === n));
  if (unknown.length) return usageError(msg.unknownImages(unknown, plan.name, all.map((i) => i.name)));
  const images = opts.only?.length ? all.filter((i) => opts.only!.includes(i.name)) : all;
  const parallel = opts.parallel === undefined ? undefined : Number(opts.parallel);
  if (parallel !== undefined && !(Number.isInteger(parallel) && parallel >= 1)) return usageError(msg.badParallel(opts.parallel));

  // Settings only the operator has (API URLs, credentials) come from PKR_VAR_*: say which are
  // missing now rather than after Packer has downloaded its plugins.
  const missing = [...new Set(images.flatMap((i) => missingSettings(plan, i)))];
  if (missing.length) {
    say(msg.packerMissingSettings(plan.packer.builder, missing, join(packerDir(opts.out, plan), 'README.md')));
    return EXIT.invalid;
  }

  const dir = packerDir(opts.out, plan);
  const written = await emit(renderPackerTree(plan, all), dir, opts);
  if (written !== EXIT.ok) return written;

  let packer: string;
  try {
    const found = await locatePacker({
      version: opts.packerVersion,
      baseUrl: opts.releaseUrl,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    packer = found.path;
    process.stdout.write(`packer ${found.version} (${found.source}): ${found.path}\n`);
  } catch (e) {
    // Caught here rather than at the CLI's edge: bake has always printed these in this shorter form.
    if (!(e instanceof DiagnosticError)) throw e;
    for (const d of e.diagnostics) say(d);
    return e.exitCode;
  }

  const needsKey = images.some((i) => imageVariables(plan, i).some((v) => v.name === KEY_VARIABLES[0]));
  let key: BuildKey | undefined;
  try {
    key = needsKey ? await createBuildKey() : undefined;
    const results = await bakeImages({
      images: images.map((i) => ({ name: i.name, dir: join(dir, i.name) })),
      packer,
      dryRun: opts.dryRun,
      parallel,
      force: opts.forceBuild,
      env: key ? { PKR_VAR_build_ssh_public_key: key.publicKey, PKR_VAR_build_ssh_private_key_file: key.privateKeyFile } : {},
    });
    return results.every((r) => r.ok) ? EXIT.ok : EXIT.invalid;
  } finally {
    await key?.dispose();
  }
}

function missingSettings(plan: ClusterPlan, image: PackerImage, env: NodeJS.ProcessEnv = process.env): string[] {
  return imageVariables(plan, image)
    .filter((v) => fromEnvironment(v) && !KEY_VARIABLES.includes(v.name))
    .map((v) => v.name)
    .filter((name) => !env[`PKR_VAR_${name}`]);
}
