// When a golden test may rewrite its goldens: UPDATE_GOLDEN=1, and never under CI (there a
// rewrite would make every golden comparison pass, whatever the output).

/** CI=true or CI=1 (any case), as .ci/run sets it. */
export function underCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(true|1)$/i.test(env.CI ?? '');
}

/**
 * Whether to rewrite the goldens before comparing: UPDATE_GOLDEN=1 outside CI. Under CI any
 * UPDATE_GOLDEN is refused, so that the comparison that follows is never skipped.
 */
export function updatingGoldens(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.UPDATE_GOLDEN === undefined || env.UPDATE_GOLDEN === '') return false;
  if (underCI(env)) throw new Error(`UPDATE_GOLDEN=${env.UPDATE_GOLDEN} under CI=${env.CI}: goldens are regenerated only locally (UPDATE_GOLDEN=1 npm test), reviewed, and committed`);
  return env.UPDATE_GOLDEN === '1';
}
