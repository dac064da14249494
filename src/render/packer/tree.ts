// The packer/ tree: one folder per image (templates, values, scripts, seed) and a README.
// Pure: no I/O, no clock (the build time is taken on the image, by the provenance step).
import type { ClusterPlan } from '../../plan/plan.js';
import { FileTree } from '../../output/tree.js';
import { renderAutoPkrvars } from './auto-pkrvars.js';
import { renderSeedMetaData, renderSeedUserDataTemplate, SEED_META_DATA, SEED_USER_DATA_TEMPLATE } from './cidata.js';
import { renderImageHcl } from './image-hcl.js';
import { packerImages, provisions, scriptPath, type PackerImage } from './images.js';
import { renderPluginsHcl } from './plugins-hcl.js';
import { renderPackerReadme } from './readme.js';
import { renderVariablesHcl } from './variables-hcl.js';

/** Builders that boot with kubebake's seed CD (the others get Packer's key another way). */
const usesSeedCd = (image: PackerImage): boolean => image.builder !== 'proxmox-clone';

export function renderImageFolder(plan: ClusterPlan, image: PackerImage): FileTree {
  const tree = new FileTree()
    .add('plugins.pkr.hcl', renderPluginsHcl(image.builder))
    .add('variables.pkr.hcl', renderVariablesHcl(plan, image))
    .add('image.pkr.hcl', renderImageHcl(plan, image))
    .add('image.auto.pkrvars.hcl', renderAutoPkrvars(plan, image));
  provisions(plan, image).forEach(({ step }, i) => tree.add(scriptPath(i, step), step.script, 0o755));
  if (usesSeedCd(image)) {
    tree.add(SEED_USER_DATA_TEMPLATE, renderSeedUserDataTemplate()).add(SEED_META_DATA, renderSeedMetaData(image));
  }
  return tree;
}

/** Paths are relative to packer/: `<image>/image.pkr.hcl`, `README.md`. */
export function renderPackerTree(plan: ClusterPlan): FileTree {
  const tree = new FileTree().add('README.md', renderPackerReadme(plan));
  for (const image of packerImages(plan)) tree.merge(renderImageFolder(plan, image), image.name);
  return tree;
}
