// `kubebake serve` as it runs on a provisioning machine: in a network namespace of its own
// (unshare -n) whose loopback carries the server's address and the hosts' addresses, so that each
// request comes from the address it would come from on the real network (serve gives a host's
// secret seed files, and takes its phone_home, from that host's address only). Requests are made
// from inside the namespace (nsenter) over real sockets. Root only.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliRun } from './cli.js';
import { repoPath } from './repo.js';
import { missingTools } from './tools.js';

/** Why a namespace cannot be made here, or undefined. */
export const netnsUnavailable = (): string | undefined =>
  process.getuid?.() !== 0 ? 'needs root for a network namespace' : missingTools('unshare', 'ip', 'nsenter');

/** One request, from `from` (any address of the namespace when absent) to `to`:`port`. */
export interface Ask { from?: string; to: string; port: number; method?: string; path: string; headers?: Record<string, string>; body?: string }
export type Answer = { status: number; body: string } | { error: string };
export const statusOf = (a: Answer | undefined): number | string => (a && 'status' in a ? a.status : (a?.error ?? 'none'));

const CLIENT = `
import { request } from 'node:http';
const asks = JSON.parse(process.argv[2]);
const out = [];
for (const a of asks) {
  out.push(await new Promise((resolve) => {
    const req = request({ host: a.to, port: a.port, localAddress: a.from, method: a.method ?? 'GET', path: a.path, headers: a.headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ error: e.code }));
    req.end(a.body);
  }));
}
process.stdout.write(JSON.stringify(out));
`;

/**
 * For QEMU's guestfwd: each guest connection runs this inside the namespace, relaying its bytes to
 * the server from the guest's own address (argv: guest address, server address, port).
 */
const RELAY = `import { connect } from 'node:net';
const s = connect({ localAddress: process.argv[2], host: process.argv[3], port: Number(process.argv[4]) });
s.on('error', () => process.exit(0));
process.stdin.pipe(s);
s.pipe(process.stdout);
`;

export interface NamespacedServe {
  /** What serve printed on stdout so far. */
  output: () => string;
  /** The requests, in order, made from inside the namespace. */
  ask: (asks: Ask[]) => Answer[];
  /** `kubebake ARGS` run inside the namespace (status --server …). */
  kubebake: (args: readonly string[]) => CliRun;
  /** A shell command line that relays a guest connection from `from` to `to`:`port` inside the namespace (QEMU guestfwd's cmd:). */
  relayCommand: (from: string, to: string, port: number) => string;
  stop: () => Promise<{ code: number | null; stdout: string }>;
}

/** `kubebake serve -f FILE -o OUT [extra]` in a new network namespace with `addresses` on lo; resolves once it serves. */
export function serveInNamespace(dir: string, opts: { file: string; out: string; addresses: string[]; extra?: string[] }): Promise<NamespacedServe> {
  const client = join(dir, 'netns-client.mjs');
  const relay = join(dir, 'netns-relay.mjs');
  writeFileSync(client, CLIENT);
  writeFileSync(relay, RELAY);
  const setup = opts.addresses.map((a) => `ip addr add ${a}/32 dev lo`).join(' && ');
  const child = spawn('unshare', ['--net', 'bash', '-c', `ip link set lo up && ${setup} && exec "$@"`, 'ns', process.execPath, repoPath('bin', 'kubebake.js'), 'serve', '-f', opts.file, '-o', opts.out, ...(opts.extra ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  process.once('exit', () => child.kill('SIGKILL'));
  const enter = (): string[] => [`--net=/proc/${child.pid}/ns/net`];
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!/serving .* on http:\/\//.test(stdout)) return;
      resolve({
        output: () => stdout,
        ask: (asks) => {
          const r = spawnSync('nsenter', [...enter(), process.execPath, client, JSON.stringify(asks)], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`the namespace's client failed: ${r.stderr}`);
          return JSON.parse(r.stdout) as Answer[];
        },
        kubebake: (args) => {
          const r = spawnSync('nsenter', [...enter(), process.execPath, repoPath('bin', 'kubebake.js'), ...args], { encoding: 'utf8' });
          return { status: r.status, stdout: r.stdout, stderr: r.stderr };
        },
        relayCommand: (from, to, port) => ['nsenter', ...enter(), process.execPath, relay, from, to, String(port)].join(' '),
        stop: async () => (child.kill('SIGTERM'), { code: await exited, stdout }),
      });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}
