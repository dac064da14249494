// The real, independent checkers of our output (nobody on the team wrote them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { underCI } from './golden.js';

export interface ToolResult { status: number | null; stdout: string; stderr: string }

/** The validators (and helpers) tests call, with the Debian package that ships each. */
const TOOL_PACKAGES: Record<string, string> = {
  'cloud-init': 'cloud-init',
  haproxy: 'haproxy',
  keepalived: 'keepalived',
  shellcheck: 'shellcheck',
  xorriso: 'xorriso',
  openssl: 'openssl',
  sudo: 'sudo',
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  // The hosts day-2 commands reach over SSH (test/helpers/ssh-nodes.ts).
  sshd: 'openssh-server',
  unshare: 'util-linux',
  ip: 'iproute2',
  chromium: 'chromium',
  'systemd-analyze': 'systemd',
  // The sandbox's signed apt mirror (test/helpers/apt-repo.ts).
  'dpkg-deb': 'dpkg',
  'apt-ftparchive': 'apt-utils',
  gpg: 'gpg',
  'grub-script-check': 'grub-common',
  // Host firewall rulesets (nft -c) and the canary sandbox's time limit (test/topology/embedding.test.ts).
  nft: 'nftables',
  timeout: 'coreutils',
  wget: 'wget',
  // Proxmox builds its cloud-init drive with genisoimage, virt-install with xorrisofs (test/e2e/delivery-paths).
  genisoimage: 'genisoimage',
  xorrisofs: 'xorriso',
  // Ubuntu's reader of network-config (test/render-cloud-init/network-renderers.test.ts).
  netplan: 'netplan.io',
};

const present = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

let aptUpdated = false;
/** Installs a tool's package when this process can (root, apt-get); one apt at a time across test processes. */
function install(pkg: string): boolean {
  if (process.getuid?.() !== 0 || !present('apt-get')) return false;
  const apt = (args: string[]): boolean =>
    spawnSync('flock', ['/tmp/kubebake-test-apt.lock', 'apt-get', '-o', 'DPkg::Lock::Timeout=300', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: 'ignore',
      timeout: 600_000,
    }).status === 0;
  if (apt(['install', '-y', '-qq', '--no-install-recommends', pkg])) return true;
  if (aptUpdated) return false;
  aptUpdated = true;
  return apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', pkg]);
}

const known = new Map<string, boolean>();

/**
 * Why a test cannot run here: the tools it needs that are missing and could not be installed,
 * named (e.g. "haproxy not installed (apt-get install haproxy)"), or undefined when all are there.
 * Missing tools are installed first when this process is root and has apt-get. Under CI (CI=true,
 * as .ci/run sets it) a missing tool is an error, not a skip: CI installs everything.
 */
export function missingTools(...tools: string[]): string | undefined {
  const missing = tools.filter((t) => {
    if (!known.has(t)) known.set(t, present(t) || (TOOL_PACKAGES[t] !== undefined && install(TOOL_PACKAGES[t]) && present(t)));
    return !known.get(t);
  });
  if (!missing.length) return undefined;
  const why = `${missing.join(', ')} not installed (apt-get install ${missing.map((t) => TOOL_PACKAGES[t] ?? t).join(' ')})`;
  if (underCI()) throw new Error(`${why}: under CI every tool must be installed (.ci/run installs them)`);
  return why;
}

export function run(cmd: string, args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, cwd: opts.cwd, env: opts.env, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes files into a fresh temp dir; returns the dir and a cleanup. */
export function tempFiles(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-test-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** shellcheck -S warning over named scripts; returns its report ('' when clean). */
export function shellcheck(scripts: Record<string, string>): string {
  const names = Object.keys(scripts);
  if (!names.length) return '';
  const safe = Object.fromEntries(names.map((n, i) => [`s${i}.sh`, scripts[n]!]));
  const { dir, cleanup } = tempFiles(safe);
  try {
    const r = run('shellcheck', ['-S', 'warning', '-s', 'bash', ...Object.keys(safe)], { cwd: dir });
    if (r.status === 0) return '';
    let report = r.stdout + r.stderr;
    names.forEach((n, i) => (report = report.split(`s${i}.sh`).join(n)));
    return report;
  } finally {
    cleanup();
  }
}

/** haproxy -c -f: HAProxy's own configuration check. */
export function haproxyCheck(cfg: string): ToolResult {
  const { dir, cleanup } = tempFiles({ 'haproxy.cfg': cfg });
  try {
    return run('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')]);
  } finally {
    cleanup();
  }
}

/**
 * keepalived -t -f: keepalived's own configuration check. It fails when a vrrp_script path does
 * not exist or a named interface is missing, so the check runs in private mount and network
 * namespaces: our files are bind-mounted over /etc/keepalived and each interface the config names
 * is created there (a veth end, or the namespace's own loopback renamed when veth is unavailable).
 * The machine's own config and network are untouched.
 */
export function keepalivedCheck(conf: string, scripts: Record<string, string>): ToolResult {
  const { dir, cleanup } = tempFiles({ 'keepalived.conf': conf, ...scripts });
  const interfaces = [...new Set([...conf.matchAll(/^\s*(?:interface|dev)\s+(\S+)/gm)].map((m) => m[1]!))];
  const makeLinks = interfaces
    .map((name, i) => `{ ip link add "${name}" type veth peer name kbpeer${i} 2>/dev/null || ip link set lo name "${name}"; } && ip link set "${name}" up`)
    .join(' && ');
  try {
    run('chmod', ['-R', 'go-w', dir]);
    for (const name of Object.keys(scripts)) run('chmod', ['0755', join(dir, name)]);
    const inner = [makeLinks, 'mkdir -p /etc/keepalived', 'mount --bind "$0" /etc/keepalived', 'keepalived -t -f /etc/keepalived/keepalived.conf']
      .filter(Boolean)
      .join(' && ');
    return run('unshare', ['--mount', '--net', 'sh', '-c', inner, dir]);
  } finally {
    cleanup();
  }
}

/** Why a test cannot run here: the command is missing (name the Debian package that ships it), or undefined. */
export function missingTool(cmd: string, debianPackage: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${cmd} is not installed (apt-get install ${debianPackage})`;
}
