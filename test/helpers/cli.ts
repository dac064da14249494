import { spawn, spawnSync } from 'node:child_process';
import { repoPath } from './repo.js';

export interface CliRun { status: number | null; stdout: string; stderr: string }

/** Runs `node bin/kubebake.js ARGS` as an operator would, optionally with its own environment. */
export function runKubebake(args: readonly string[], env?: NodeJS.ProcessEnv): CliRun {
  const r = spawnSync(process.execPath, [repoPath('bin', 'kubebake.js'), ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `runKubebake` without blocking this process: for tests whose own servers must answer the CLI. */
export function runKubebakeAsync(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [repoPath('bin', 'kubebake.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
