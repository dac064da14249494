import type { Step } from '../../steps/step.js';

/** scripts/NN-<step>.sh, numbered in run order from 00 (the cloud-init wait). */
export const scriptPath = (index: number, step: Step): string => `scripts/${String(index).padStart(2, '0')}-${step.name}.sh`;
