// The packer/ tree: one folder per image (templates, values, scripts, seed) and a README.
// Pure: no I/O, no clock (the build time is taken on the image, by the provenance step).
import { BUILDER_TRAITS } from '../../plan/builders.js';
import { buildImageManifests, type ImageManifest } from '../../manifest/image-manifest.js';
import type { ClusterPlan } from '../../plan/plan.js';
import { FileTree } from '../../output/tree.js';
import { standaloneScript } from '../../steps/scripts.js';
import { renderAutoPkrvars } from './auto-pkrvars.js';
import { renderSeedMetaData, renderSeedUserDataTemplate, SEED_META_DATA, SEED_USER_DATA_TEMPLATE } from './cidata.js';
import { renderImageHcl } from './image-hcl.js';
import { scriptPath } from './layout.js';
import { renderPluginsHcl } from './plugins-hcl.js';
import { renderPackerReadme } from './readme.js';
import { renderVariablesHcl } from './variables-hcl.js';

export function renderImageFolder(plan: ClusterPlan, image: ImageManifest): FileTree {
  const tree = new FileTree()
    .add('plugins.pkr.hcl', renderPluginsHcl(image.builder))
    .add('variables.pkr.hcl', renderVariablesHcl(plan, image))
    .add('image.pkr.hcl', renderImageHcl(plan, image))
    .add('image.auto.pkrvars.hcl', renderAutoPkrvars(plan, image));
  image.provisions.forEach(({ step }, i) => tree.add(scriptPath(i, step), standaloneScript(step), 0o755));
  if (BUILDER_TRAITS[image.builder].seedCd) {
    tree.add(SEED_USER_DATA_TEMPLATE, renderSeedUserDataTemplate()).add(SEED_META_DATA, renderSeedMetaData(image));
  }
  return tree;
}

/** Paths are relative to packer/: `<image>/image.pkr.hcl`, `README.md`. */
export function renderPackerTree(plan: ClusterPlan, images: readonly ImageManifest[] = buildImageManifests(plan)): FileTree {
  const tree = new FileTree().add('README.md', renderPackerReadme(plan, images));
  for (const image of images) tree.merge(renderImageFolder(plan, image), image.name);
  return tree;
}
