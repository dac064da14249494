// Running a kubebake script as root on a host of the cluster, the way operators already reach
// their machines: the system's OpenSSH client, as the topology's admin user (cloud-init gives it
// the topology's keys and passwordless sudo), with the operator's own ssh configuration, keys,
// agent and known_hosts — no agent of kubebake's on the hosts (kubespray does the same through
// Ansible). BatchMode: ssh never prompts; an unknown host key or a missing key fails instead.
//
// What travels on the command line is a constant script (a file of src/remote/sh/, checked with
// shellcheck) and plain arguments (names, addresses, paths); data such as a haproxy.cfg travels on
// standard input. Nothing secret is ever in ssh's or sudo's argv (which sudo logs).
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
export interface RemoteResult { status: number | null; stdout: string; stderr: string }

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

/** ssh's options and the remote command line for `script` with `args` on `host` (exported for tests). */
export function sshArgv(access: SshAccess, host: RemoteHost, script: RemoteScript | 'true', args: readonly string[]): string[] {
  const remote = script === 'true' ? 'sudo -n true' : ['sudo', '-n', 'bash', '-c', q(remoteScript(script)), q(`kubebake-${script}`), ...args.map(q)].join(' ');
  return [
    ...(access.configFile ? ['-F', access.configFile] : []),
    '-T',
    '-o', 'BatchMode=yes',
    '-o', 'ConnectTimeout=10',
    '-l', access.user,
    '--', host.address,
    remote,
  ];
}

/**
 * Runs `script` as root on `host` (`'true'`: only checks that ssh and sudo work); `stdin` is the
 * script's standard input. Resolves with ssh's status (SSH_FAILED when ssh itself failed; null
 * when the time ran out and ssh was stopped) and its output.
 */
export function runRemote(access: SshAccess, host: RemoteHost, script: RemoteScript | 'true', args: readonly string[] = [], stdin = ''): Promise<RemoteResult> {
  return new Promise((resolve) => {
    const child = spawn('ssh', sshArgv(access, host, script, args), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), access.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ status: SSH_FAILED, stdout, stderr: `cannot run ssh: ${e.message}` });
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // ssh may exit before reading all of stdin; its status says why
    child.stdin.end(stdin);
  });
}

/** The last lines of a command's error output, for a message (ssh and sudo put the cause last). */
export const lastLines = (text: string, n = 3): string =>
  text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
