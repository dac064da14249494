// Running a kubebake script as root on a host of the cluster, the way operators already reach
// their machines: the system's OpenSSH client, as the topology's admin user (cloud-init gives it
// the topology's keys and passwordless sudo), with the operator's own ssh configuration, keys,
// agent and known_hosts — no agent of kubebake's on the hosts (kubespray does the same through
// Ansible). BatchMode: ssh never prompts; an unknown host key or a missing key fails instead.
//
// What travels on the command line is a constant script (a file of src/remote/sh/, checked with
// shellcheck) and plain arguments (names, addresses, paths); data such as a haproxy.cfg travels on
// standard input. Nothing secret is ever in ssh's or sudo's argv (which sudo logs). A script
// made for one host (a node's upgrade step: versions, mirrors, proxy) travels whole on standard
// input instead, to the constant `sudo -n bash -s` (runScriptOnStdin).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { q } from '../steps/shell.js';
import { packageFile } from '../util/package-root.js';

export interface SshAccess {
  /** The topology's access.adminUser. */
  user: string;
  /** ssh -F: a configuration file instead of ~/.ssh/config (jump hosts, ports, keys, known_hosts). */
  configFile?: string;
  /** Bound for one remote command, ms. */
  timeoutMs: number;
}

export interface RemoteHost { name: string; address: string }
export interface RemoteResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The bound ran out, or the caller aborted: ssh was stopped (status null). */
  timedOut?: boolean;
  aborted?: boolean;
}

/** The scripts kubebake runs on hosts (src/remote/sh/<name>.sh). */
export type RemoteScript = 'haproxy-install' | 'kubeadm-reset' | 'etcd-member-remove';

const scripts = new Map<RemoteScript, string>();
export function remoteScript(name: RemoteScript): string {
  let text = scripts.get(name);
  if (text === undefined) scripts.set(name, (text = readFileSync(packageFile(`src/remote/sh/${name}.sh`), 'utf8')));
  return text;
}

/** ssh exits 255 when it could not connect, authenticate or verify the host (ssh(1), EXIT STATUS). */
export const SSH_FAILED = 255;

/** ssh's options around a remote command line (BatchMode; a host that vanishes ends the session within a minute). */
function sshOptions(access: SshAccess, host: RemoteHost, remote: string): string[] {
  return [
    ...(access.configFile ? ['-F', access.configFile] : []),
    '-T',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=15',
    '-o', 'ServerAliveCountMax=4',
    '-l', access.user,
    '--', host.address,
    remote,
  ];
}

/** ssh's argv for `script` with `args` on `host` (exported for tests and --dry-run). */
export function sshArgv(access: SshAccess, host: RemoteHost, script: RemoteScript | 'true' | 'stdin', args: readonly string[] = []): string[] {
  const remote =
    script === 'true' ? 'sudo -n true' : script === 'stdin' ? 'sudo -n bash -s' : ['sudo', '-n', 'bash', '-c', q(remoteScript(script)), q(`kubebake-${script}`), ...args.map(q)].join(' ');
  return sshOptions(access, host, remote);
}

/** Starts ssh with `argv`, feeds `stdin`, and stops it at the bound or when `signal` aborts. */
function runSsh(argv: string[], stdin: string, timeoutMs: number, signal?: AbortSignal): Promise<RemoteResult> {
  return new Promise((resolve) => {
    const child = spawn('ssh', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      child.kill('SIGTERM');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = (r: RemoteResult): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    // Output is capped (a runaway remote command must not fill memory); the cause is at the start or in the last lines kept.
    const keep = (acc: string, d: string): string => (acc.length > CAP ? acc : acc + d);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = keep(stdout, d)));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = keep(stderr, d)));
    child.on('error', (e) => done({ status: SSH_FAILED, stdout, stderr: `cannot run ssh: ${e.message}`, timedOut, aborted }));
    child.on('close', (status) => done({ status: timedOut || aborted ? null : status, stdout, stderr, timedOut, aborted }));
    child.stdin.on('error', () => {}); // ssh may exit before reading all of stdin; its status says why
    child.stdin.end(stdin);
  });
}

const CAP = 64 * 1024;

/**
 * Runs `script` as root on `host` (`'true'`: only checks that ssh and sudo work); `stdin` is the
 * script's standard input. Resolves with ssh's status (SSH_FAILED when ssh itself failed; null
 * when the time ran out and ssh was stopped) and its output.
 */
export function runRemote(access: SshAccess, host: RemoteHost, script: RemoteScript | 'true', args: readonly string[] = [], stdin = ''): Promise<RemoteResult> {
  return runSsh(sshArgv(access, host, script, args), stdin, access.timeoutMs);
}

/** Runs a whole bash script, sent on standard input, as root on `host` (`sudo -n bash -s`); `signal` stops it. */
export function runScriptOnStdin(access: SshAccess, host: RemoteHost, script: string, signal?: AbortSignal): Promise<RemoteResult> {
  return runSsh(sshArgv(access, host, 'stdin'), script, access.timeoutMs, signal);
}

/** The last lines of a command's error output, for a message (ssh and sudo put the cause last). */
export const lastLines = (text: string, n = 3): string =>
  text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
