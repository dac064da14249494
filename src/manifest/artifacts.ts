// The artefact inventory's former names, for src/cli/manifest.ts alone: that file is being
// changed on another branch. Once it imports buildArtifactInventory and formatArtifactInventory
// from ./inventory.js, delete this file.
export { buildArtifactInventory as buildArtifactManifest, formatArtifactInventory as formatArtifactManifest } from './inventory.js';
