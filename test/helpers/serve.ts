// A cluster folder with a PXE tree as render writes it (the contract of issue 12), and a
// `kubebake serve` on 127.0.0.1 for it: shared by the server, page and VM tests. The hosts have
// loopback addresses of their own (127.0.20.x: Linux routes all of 127/8 to lo), so a test can
// ask as a host (`from`) or as anyone else (127.0.0.1) over real sockets.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportKey } from '../../src/plan/report-keys.js';
import { repoPath } from './repo.js';
import { startServer, type RunningServer, type ServeConfig, type ServeHost, type ServeLimits } from '../../src/serve/server.js';

const SECRET = '5a'.repeat(32);
/** Stand-in boot scripts that say which default they carry (the real ones: test/serve/cli.test.ts, test/delivery/pxe.test.ts). */
const scripts = (name: string): ServeHost['bootScripts'] => ({
  install: { ipxe: `#!ipxe\necho ${name}: default install\n`, grub: `# ${name}: default install\n` },
  local: { ipxe: `#!ipxe\necho ${name}: default local\n`, grub: `# ${name}: default local\n` },
});
const host = (name: string, role: ServeHost['role'], ip: string, mac: string, steps: string[]): ServeHost => ({ name, role, ip, mac, steps, key: reportKey(SECRET, name), bootScripts: scripts(name) });
export const HOSTS: ServeHost[] = [
  host('lb1', 'load-balancer', '127.0.20.10', '52:54:00:20:00:10', ['resolver', 'base', 'load-balancer']),
  host('cp1', 'control-plane', '127.0.20.11', '52:54:00:20:00:11', ['resolver', 'base', 'crio', 'bootstrap']),
  host('worker1', 'worker', '127.0.20.21', '52:54:00:20:00:21', ['resolver', 'base', 'crio', 'bootstrap']),
];
export const OUTSIDE = 'secret outside the tree';

/** A cluster folder as render writes it (the PXE tree of the contract), plus bait outside the tree. */
export function makeCluster(dir: string): { pxe: string; state: string } {
  const pxe = join(dir, 'cluster', 'pxe');
  const put = (rel: string, content: string): void => {
    mkdirSync(join(pxe, rel, '..'), { recursive: true });
    writeFileSync(join(pxe, rel), content);
  };
  for (const h of HOSTS) {
    for (const f of ['user-data', 'meta-data', 'network-config']) put(`nocloud/${h.name}/${f}`, `${f} of ${h.name}\n`);
    put(`ipxe/${h.mac}.ipxe`, `#!ipxe\necho ${h.name}\n`);
    put(`autoinstall/${h.name}.yaml`, `autoinstall: {version: 1}\n`);
  }
  put('nocloud/cp1/vendor-data', '#cloud-config\n{}\n');
  put('hosts.json', '{}\n');
  put('boot.ipxe', '#!ipxe\nchain ipxe/${mac}.ipxe\n');
  put('grub/grub.cfg', 'menuentry x {}\n');
  put('boot/vmlinuz', 'KERNEL');
  put('unlisted.txt', 'not in the table');
  writeFileSync(join(dir, 'cluster', 'outside.txt'), OUTSIDE);
  mkdirSync(join(dir, 'cluster', 'secrets'));
  writeFileSync(join(dir, 'cluster', 'secrets', 'token'), OUTSIDE);
  symlinkSync('../../outside.txt', join(pxe, 'boot', 'escape'));
  symlinkSync('../../../outside.txt', join(pxe, 'nocloud', 'worker1', 'vendor-data'));
  symlinkSync('vmlinuz', join(pxe, 'boot', 'kernel-link'));
  return { pxe, state: join(dir, 'cluster', 'serve-state') };
}

export async function serve(dir: string, limits: Partial<ServeLimits> = {}, reinstall?: string[], extra: Pick<ServeConfig, 'serverUrl' | 'now'> = {}): Promise<RunningServer> {
  return startServer({ cluster: 'lab', hosts: HOSTS, pxeRoot: join(dir, 'cluster', 'pxe'), stateDir: join(dir, 'cluster', 'serve-state'), limits: { saveDelayMs: 10, ...limits }, reinstall, ...extra }, { host: '127.0.0.1', port: 0 });
}

export interface Reply { status: number; headers: IncomingMessage['headers']; body: string }

/** The address a host of HOSTS asks from. */
export const ipOf = (name: string): string => HOSTS.find((h) => h.name === name)!.ip;

export function call(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string; from?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: opts.headers, localAddress: opts.from }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Bytes sent as they are (no client normalises the path); the whole answer until the server closes. */
export function raw(port: number, text: string, waitMs = 5_000, from?: string): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = connect({ port, host: '127.0.0.1', localAddress: from }, () => s.write(text));
    let answer = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (answer += d));
    s.on('error', reject);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ answer, closedAfterMs: Infinity });
    }, waitMs);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });
}

/**
 * The headers of a signed report, computed here with node:crypto as the protocol says (HMAC-SHA256
 * under the key's bytes of "POST\n<path>\n<time>\n<nonce>\n<body>"), not by the server's code.
 */
export function signedHeaders(key: string, path: string, body: string, opts: { time?: number; nonce?: string } = {}): Record<string, string> {
  const time = String(opts.time ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? randomBytes(16).toString('hex');
  const signature = createHmac('sha256', Buffer.from(key, 'hex')).update(`POST\n${path}\n${time}\n${nonce}\n${body}`).digest('hex');
  return { 'Content-Type': 'text/plain', 'Kubebake-Time': time, 'Kubebake-Nonce': nonce, 'Kubebake-Signature': signature };
}

/** POSTs a signed report to `path` with `key`. */
export const report = (port: number, path: string, key: string, body: string, opts: { time?: number; nonce?: string } = {}): Promise<Reply> =>
  call(port, 'POST', path, { headers: signedHeaders(key, path, body, opts), body });

export interface ServeProcess { url: string; port: number; output: () => string; stop: () => Promise<{ code: number | null; stdout: string }> }

/** Starts `kubebake serve -f FILE -o OUT` as an operator would; resolves with its URL once it prints it. */
export function startServeCli(file: string, out: string, listen = '127.0.0.1:0', extra: string[] = []): Promise<ServeProcess> {
  const child = spawn(process.execPath, [repoPath('bin', 'kubebake.js'), 'serve', '-f', file, '-o', out, '--listen', listen, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  process.once('exit', () => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(stdout);
      if (m) resolve({ url: m[1]!, port: Number(m[2]), output: () => stdout, stop: async () => (child.kill('SIGTERM'), { code: await exited, stdout }) });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
}
