import { spawnSync } from 'node:child_process';
import { repoPath } from './repo.js';

export interface CliRun { status: number | null; stdout: string; stderr: string }

/** Runs `node bin/kubebake.js ARGS` as an operator would, optionally with its own environment. */
export function runKubebake(args: readonly string[], env?: NodeJS.ProcessEnv): CliRun {
  const r = spawnSync(process.execPath, [repoPath('bin', 'kubebake.js'), ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
