import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root: this file runs as dist/test/helpers/paths.js, and dist/ mirrors the tree. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** A path under the repository root. */
export const fromRoot = (...parts: string[]): string => join(ROOT, ...parts);
