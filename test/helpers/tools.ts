// The real, independent checkers of our output (nobody on the team wrote them).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ToolResult { status: number | null; stdout: string; stderr: string }

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
