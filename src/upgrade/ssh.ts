// Reaching a node: the system's OpenSSH client as the topology's admin user (the user every host's
// user-data creates, with the operator's authorized keys and passwordless sudo), as kubespray's
// Ansible does. Keys, agents, known hosts and jump hosts are the operator's own ssh setup
// (~/.ssh/config, or --ssh-config FILE); kubebake adds only BatchMode (never a prompt) and bounds.
// The remote command is the constant `sudo -n bash -s`; the script travels on standard input.
import { spawn } from 'node:child_process';

export interface SshTarget {
  /** The node's address (hosts[].ip). */
  host: string;
  user: string;
  /** An ssh_config file for -F (else ssh reads the operator's own). */
  configFile?: string;
}

export interface SshResult {
  /** ssh's exit status: the remote command's, or 255 when ssh itself failed. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  aborted: boolean;
  /** ssh could not be started (not installed). */
  spawnError?: string;
}

/** ssh's own failure (connection, authentication, host key), as OpenSSH reports it. */
export const SSH_FAILED = 255;

/** The ssh command line (without the script): also what --dry-run prints. */
export function sshArgs(t: SshTarget): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=20',
    // A node that vanishes mid-step (power, network) ends the session within a minute.
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=4',
    ...(t.configFile ? ['-F', t.configFile] : []),
    '-l', t.user,
    '--', t.host,
    'sudo -n bash -s',
  ];
}

const CAP = 64 * 1024;

export function runOverSsh(t: SshTarget, script: string, timeoutMs: number, signal?: AbortSignal): Promise<SshResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const child = spawn('ssh', sshArgs(t), { stdio: ['pipe', 'pipe', 'pipe'] });
    const keep = (acc: string, d: Buffer): string => (acc.length > CAP ? acc : acc + d.toString('utf8'));
    child.stdout.on('data', (d: Buffer) => (stdout = keep(stdout, d)));
    child.stderr.on('data', (d: Buffer) => (stderr = keep(stderr, d)));
    const stop = (): void => void child.kill('SIGTERM');
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code: null, stdout, stderr, timedOut, aborted, spawnError: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve({ code, stdout, stderr, timedOut, aborted });
    });
    // A remote end that closes early (ssh failed) must not crash the writer.
    child.stdin.on('error', () => {});
    child.stdin.end(script);
  });
}
