// `kubebake serve`: the provisioning server of one cluster. Serves the PXE tree read-only (see
// files.ts), takes each host's progress (authenticated step reports, cloud-init's phone_home),
// keeps it in memory and in serve-state/, and shows it: the live page at /, JSON at
// /api/status, Server-Sent Events at /events.
//
// Against hostile clients: a request must name this server in its Host header (a page elsewhere
// that rebinds its DNS name to this address gets 421); a host's secret-bearing seed files go to
// that host's own address only, and to nobody once it joined (403, 410); a report must be signed
// with its host's own key, fresh and never seen before (signature.ts: 401 unsigned or stale, 403
// forged or replayed); phone_home only from the host's address; bodies are capped (413 before
// reading when the length is announced), headers and whole requests have deadlines (Node's
// headersTimeout / requestTimeout), idle sockets are closed, each client address may hold only a
// few connections and live pages; anything unparseable is a 400, and a handler that throws
// answers 500 instead of stopping the server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { reportPath, phoneHomePath } from '../steps/report.js';
import { contentType, etagOf, lookup, openInside, requestPath, servedFiles, type ServedFile } from './files.js';
import { livePage } from './page.js';
import { parseReport } from './report-body.js';
import { NonceCache, readSignature, REPORT_WINDOW_S, SIGNATURE_HEADERS, signedText, verify } from './signature.js';
import type { BootDefault } from '../render/delivery/pxe/boot-params.js';
import type { BootScripts } from '../render/delivery/pxe/tree.js';
import { applyReport, bootDefault, installStarted, phoneHome, rearm, restoreHosts, seedServed, verdictOf, type ClusterStatus, type HostSpec, type HostStatus } from './state.js';
import { readState, writeState } from './store.js';

export interface ServeHost extends HostSpec {
  mac?: string;
  /** The host's report key (plan/report-keys.ts). */
  key: string;
  /** Its per-MAC boot scripts with either default (render/delivery/pxe/tree.ts hostBootScripts); absent without delivery.server. */
  bootScripts?: Record<BootDefault, BootScripts>;
}

export interface ServeLimits {
  /** Largest report or phone_home body, in bytes. */
  bodyBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** How often Node checks the two deadlines above. */
  checkIntervalMs: number;
  /** Live pages (event streams) open at once. */
  eventClients: number;
  /** Events queued for one live page that does not read them: beyond this it is disconnected. */
  eventBufferBytes: number;
  /** Connections open at once (a host's report holds one for a moment, a live page one for as long as it is open). */
  connections: number;
  /** Connections open at once from one client address (a PXE client fetches a file or two at a time). */
  connectionsPerClient: number;
  /** Live pages open at once from one client address. */
  eventClientsPerClient: number;
  /** A live page's event stream is ended after this long (the page reconnects by itself): none is held for ever. */
  eventStreamMs: number;
  /** A socket that neither sends nor receives for this long is closed. */
  idleSocketMs: number;
  /** Report nonces remembered at once (each for the report window). */
  nonces: number;
  /** State is written at most this long after a change. */
  saveDelayMs: number;
}

export const DEFAULT_LIMITS: ServeLimits = {
  bodyBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 20_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000,
  eventClients: 64,
  eventBufferBytes: 256 * 1024,
  connections: 512,
  connectionsPerClient: 16,
  eventClientsPerClient: 4,
  eventStreamMs: 10 * 60_000,
  idleSocketMs: 30_000,
  nonces: 100_000,
  saveDelayMs: 200,
};

export interface ServeConfig {
  cluster: string;
  hosts: readonly ServeHost[];
  /** out/<cluster>/pxe */
  pxeRoot: string;
  /** out/<cluster>/serve-state */
  stateDir: string;
  limits?: Partial<ServeLimits>;
  now?: () => Date;
  /** One line per event worth an operator's eye (never a key). */
  log?: (line: string) => void;
  /** Hosts to re-arm for installing (`--reinstall`): they start afresh, their next network boot installs them and their seed is served to them again. */
  reinstall?: readonly string[];
  /** delivery.server: the name (or address) and port the hosts reach this server at, which the Host header may carry. */
  serverUrl?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  status(): ClusterStatus;
  /** Stops listening, ends event streams, writes the state one last time. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };

/** The client's address as a host's topology address is written (IPv4 without the ::ffff: of a dual-stack socket). */
export const clientAddress = (socket: Socket): string => (socket.remoteAddress ?? '').replace(/^::ffff:(?=[0-9.]+$)/i, '').toLowerCase();

/** The name (or address) of a Host header, lower case, without its port; undefined when malformed. */
export function hostOf(host: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/.exec(host);
  return m?.[1]!.toLowerCase();
}

export async function startServer(cfg: ServeConfig, listen: { host: string; port: number }): Promise<RunningServer> {
  const limits = { ...DEFAULT_LIMITS, ...cfg.limits };
  const clock = cfg.now ?? (() => new Date());
  const now = (): string => clock().toISOString();
  const log = cfg.log ?? (() => undefined);
  const specs = new Map(cfg.hosts.map((h) => [h.name, h]));
  // The PXE index names each host's files; read once (serve again after a render that changes hosts).
  const index = await readFile(join(cfg.pxeRoot, 'hosts.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
  const table = servedFiles(cfg.hosts, index);
  const page = livePage(cfg.cluster);

  const hosts = new Map<string, HostStatus>(restoreHosts(cfg.hosts, await readState(cfg.stateDir)).map((h) => [h.name, h]));
  const status = (): ClusterStatus => {
    const list = [...hosts.values()];
    return { cluster: cfg.cluster, verdict: verdictOf(list), hosts: list };
  };

  // Saving: one write at a time, at most saveDelayMs after a change.
  let saveTimer: NodeJS.Timeout | undefined;
  let saving: Promise<void> = Promise.resolve();
  const save = (): Promise<void> =>
    (saving = saving.then(() => writeState(cfg.stateDir, status())).catch((e: Error) => log(`cannot save the state in ${cfg.stateDir}: ${e.message}`)));
  const events = new Set<ServerResponse>();
  const nonces = new NonceCache(limits.nonces);
  const perClient = { connections: new Map<string, number>(), events: new Map<string, number>() };
  const bump = (m: Map<string, number>, k: string, by: 1 | -1): number => {
    const n = (m.get(k) ?? 0) + by;
    if (n > 0) m.set(k, n);
    else m.delete(k);
    return n;
  };
  const update = (h: HostStatus): void => {
    hosts.set(h.name, h);
    const data = `event: host\ndata: ${JSON.stringify({ host: h, verdict: verdictOf([...hosts.values()]) })}\n\n`;
    for (const res of events) {
      // A live page that does not read its events is cut off rather than buffered without bound.
      if (res.writableLength > limits.eventBufferBytes) res.destroy();
      else res.write(data);
    }
    saveTimer ??= setTimeout(() => {
      saveTimer = undefined;
      void save();
    }, limits.saveDelayMs);
  };

  // Re-armed hosts are on disk before the first request: a crash cannot forget the operator's word.
  for (const name of cfg.reinstall ?? []) {
    const spec = specs.get(name);
    if (!spec) throw new Error(`--reinstall ${name}: no such host (the CLI checks it first)`);
    hosts.set(name, rearm(spec, now()));
    log(`${name}: armed to install: its next network boot installs it (--reinstall)`);
  }
  if (cfg.reinstall?.length) await save();

  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
      maxHeaderSize: 8 * 1024,
    },
    (req, res) => {
      handle(req, res).catch((e: unknown) => {
        const err = e instanceof HttpError ? e : new HttpError(500, 'internal error');
        if (!(e instanceof HttpError)) log(`internal error on ${req.method} ${safe(req.url ?? '')}: ${(e as Error).message}`);
        if (res.headersSent) return void res.destroy();
        // After a refused body the rest of it is not read: the connection is closed.
        res.writeHead(err.status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close', ...err.headers });
        res.end(`${err.message}\n`);
      });
    },
  );
  server.maxHeadersCount = 64;
  // Each connection costs a socket until its deadline: a flood of idle ones is cut off here.
  server.maxConnections = limits.connections;
  // ... and one client address cannot take them all: past its share its new sockets are closed
  // at once, and any socket quiet for idleSocketMs is closed (Node's server timeout).
  server.timeout = limits.idleSocketMs;
  server.on('connection', (socket: Socket) => {
    const client = clientAddress(socket);
    if (bump(perClient.connections, client, 1) > limits.connectionsPerClient) {
      bump(perClient.connections, client, -1);
      return void socket.destroy();
    }
    socket.once('close', () => bump(perClient.connections, client, -1));
  });
  /** The Host header values this server answers to, filled once it listens. */
  const names = new Set<string>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page of another site whose name now resolves here still sends its own name
    // (a browser always sends one). The port is not compared: firmware HTTP clients differ in
    // whether they write it, and a rebinding page is told apart by its name alone.
    const given = req.headers.host;
    if (given !== undefined && !names.has(hostOf(given) ?? '')) throw new HttpError(421, `this server answers only to ${[...names].join(', ')} (Host header)`);
    const url = req.url ?? '';
    const path = url.split('?')[0]!;
    const method = req.method ?? '';
    const post = /^\/(report|phone-home)\//.exec(path);
    if (post) {
      if (method !== 'POST') throw new HttpError(405, 'POST only', { Allow: 'POST' });
      const name = decodeSegment(path.slice(post[0].length));
      const host = specs.get(name);
      if (!host || (post[1] === 'report' ? reportPath(name) : phoneHomePath(name)) !== path) throw new HttpError(404, 'no such host');
      if (post[1] === 'report') return receiveReport(req, res, host);
      return receivePhoneHome(req, res, host);
    }
    if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'GET or HEAD only', { Allow: 'GET, HEAD' });
    if (path === '/') return sendText(req, res, page.html, 'text/html; charset=utf-8', { 'Content-Security-Policy': page.csp, 'Cache-Control': 'no-cache' });
    if (path === '/api/status') return sendText(req, res, `${JSON.stringify(status())}\n`, 'application/json', { 'Cache-Control': 'no-store' });
    if (path === '/events') return openEvents(req, res);
    return sendFile(req, res, path);
  }

  async function receiveReport(req: IncomingMessage, res: ServerResponse, host: ServeHost): Promise<void> {
    const signed = readSignature(req.headers);
    if ('missing' in signed) throw new HttpError(401, `a report must be signed with the host's key: no valid ${signed.missing} header`);
    if (!(req.headers['content-type'] ?? '').startsWith('text/plain')) throw new HttpError(415, 'reports are text/plain');
    const body = await readBody(req, limits.bodyBytes);
    // The server's clock decides (the host may not have synchronised its own): a host whose
    // clock is off signs again with the time this answer gives (report.sh).
    const nowS = Math.floor(clock().getTime() / 1000);
    if (Math.abs(Number(signed.time) - nowS) > REPORT_WINDOW_S)
      throw new HttpError(401, `the report's time is more than ${REPORT_WINDOW_S} s from the server's`, { [SIGNATURE_HEADERS.time]: String(nowS) });
    if (!verify(host.key, signedText(req.method ?? '', req.url ?? '', signed.time, signed.nonce, body), signed.signature))
      throw new HttpError(403, `not signed with ${host.name}'s key`);
    const seen = nonces.add(`${host.name} ${signed.nonce}`, Number(signed.time) + REPORT_WINDOW_S, nowS);
    if (seen === 'replayed') throw new HttpError(403, 'this report was received already (its nonce was used)');
    if (seen === 'full') throw new HttpError(503, 'too many reports at once', { 'Retry-After': '10' });
    const report = parseReport(body, host.steps);
    if ('error' in report) throw new HttpError(400, `malformed report: ${report.error}`);
    update(applyReport(hosts.get(host.name)!, report, now()));
    log(`${host.name}: ${report.event}${'step' in report ? ` ${report.step}` : ''}${report.event === 'fail' ? ` (${safe(hosts.get(host.name)!.reason ?? '')})` : ''}`);
    res.writeHead(204, SECURITY_HEADERS).end();
  }

  /** cloud-init's phone_home: form data, no key (it cannot send one); it only marks "cloud-init finished". */
  async function receivePhoneHome(req: IncomingMessage, res: ServerResponse, host: ServeHost): Promise<void> {
    // It carries no key, so it counts only from the host's own address.
    if (clientAddress(req.socket) !== host.ip.toLowerCase()) throw new HttpError(403, `phone_home for ${host.name} comes from ${host.ip} only`);
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'phone_home posts form data');
    const form = new URLSearchParams(await readBody(req, limits.bodyBytes));
    const hostname = form.get('hostname') ?? '';
    if (hostname !== host.name && !hostname.startsWith(`${host.name}.`)) throw new HttpError(400, `hostname ${JSON.stringify(hostname.slice(0, 64))} is not ${host.name}`);
    // cloud-init phones home once per instance: a repeat (anyone may post it) changes nothing.
    if (!hosts.get(host.name)!.cloudInitDoneAt) {
      update(phoneHome(hosts.get(host.name)!, now()));
      log(`${host.name}: cloud-init finished (phone_home)`);
    }
    res.writeHead(204, SECURITY_HEADERS).end();
  }

  function openEvents(req: IncomingMessage, res: ServerResponse): void {
    const client = clientAddress(req.socket);
    if (events.size >= limits.eventClients) throw new HttpError(503, 'too many live pages open', { 'Retry-After': '10' });
    if ((perClient.events.get(client) ?? 0) >= limits.eventClientsPerClient) throw new HttpError(503, `too many live pages open from ${client}`, { 'Retry-After': '10' });
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') return void res.end();
    res.write(`retry: 2000\nevent: status\ndata: ${JSON.stringify(status())}\n\n`);
    events.add(res);
    bump(perClient.events, client, 1);
    const ping = setInterval(() => res.write(': ping\n\n'), Math.min(15_000, limits.idleSocketMs / 2));
    // Ended after a while whatever it does: the page's EventSource reconnects in 2 s.
    const end = setTimeout(() => res.end(), limits.eventStreamMs);
    res.on('close', () => {
      clearInterval(ping);
      clearTimeout(end);
      events.delete(res);
      bump(perClient.events, client, -1);
    });
  }

  async function sendFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const checked = requestPath(path);
    if ('status' in checked) throw new HttpError(checked.status, checked.why);
    const entry = lookup(table, checked.rel);
    if (entry?.secret) guardSecret(req, entry);
    if (entry?.script) return sendBootScript(req, res, entry, entry.script);
    const opened = entry && (await openInside(cfg.pxeRoot, entry.rel));
    if (!entry || !opened) throw new HttpError(404, 'not found');
    const { fh, st } = opened;
    try {
      const etag = etagOf(st);
      const headers = { ...SECURITY_HEADERS, ETag: etag, 'Cache-Control': 'no-cache' };
      if (req.method === 'GET') served(entry);
      if (matches(req.headers['if-none-match'], etag)) return void res.writeHead(304, headers).end();
      res.writeHead(200, { ...headers, 'Content-Type': contentType(entry.rel), 'Content-Length': String(st.size) });
      if (req.method === 'HEAD') return void res.end();
      await new Promise<void>((resolve, reject) => {
        const stream = fh.createReadStream({ autoClose: false });
        stream.on('error', reject);
        res.on('close', resolve);
        stream.pipe(res);
      });
      // Kernels and initrds take a while: say when one went out whole (it shows a PXE boot got that far).
      if (entry.label === 'boot' && res.writableFinished) log(`served ${entry.rel} (${st.size} bytes)`);
    } finally {
      await fh.close();
    }
  }

  /** A host's secret-bearing file: to its own address only, and not after it joined unless re-armed. */
  function guardSecret(req: IncomingMessage, entry: ServedFile): void {
    const spec = specs.get(entry.host!)!;
    if (clientAddress(req.socket) !== spec.ip.toLowerCase()) throw new HttpError(403, `${entry.rel} is served only to ${spec.name} at its address ${spec.ip}`);
    const sealed = hosts.get(spec.name)!.sealedAt;
    if (sealed) throw new HttpError(410, `${spec.name} joined (${sealed}): its seed is not served any more; re-arm it with kubebake serve --reinstall ${spec.name}`);
  }

  /** A per-MAC boot script: the one whose default fits the host's install state (state.ts bootDefault). */
  function sendBootScript(req: IncomingMessage, res: ServerResponse, entry: ServedFile, script: 'ipxe' | 'grub'): void {
    const host = specs.get(entry.host!)!;
    const dflt = bootDefault(hosts.get(host.name)!);
    const text = host.bootScripts?.[dflt][script];
    if (text === undefined) throw new HttpError(404, 'not found');
    if (req.method === 'GET') {
      served(entry);
      log(`${host.name}: ${script} boot script, default ${dflt === 'install' ? 'install (armed)' : 'local disk'}`);
    }
    // Never cached: the answer changes as the host installs.
    sendText(req, res, text, contentType(entry.rel), { 'Cache-Control': 'no-store' });
  }

  function served(entry: ServedFile): void {
    if (!entry.host) return;
    if (entry.startsInstall && hosts.get(entry.host)!.install === 'armed') {
      update(installStarted(hosts.get(entry.host)!, now()));
      log(`${entry.host}: installing (fetched ${entry.rel}): its network boots go to the local disk from now on`);
    }
    const h = hosts.get(entry.host)!;
    if (h.seedFiles.includes(entry.label) && h.phase !== 'waiting') return;
    update(seedServed(h, entry.label, now()));
    log(`${entry.host}: fetched ${entry.label}`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  for (const n of hostNames(address, cfg.serverUrl)) names.add(n);
  return {
    url: `http://${hostPart}:${address.port}/`,
    port: address.port,
    status,
    async close() {
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      for (const res of events) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await save();
    },
  };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding');
  }
}

/**
 * What the Host header may name: delivery.server's name (what the hosts and the operator use),
 * and the address listened on — every local address when that is a wildcard, and `localhost`
 * when loopback is among them. A DNS name that merely resolves here is not.
 */
export function hostNames(bound: AddressInfo, serverUrl?: string): string[] {
  const out: string[] = [];
  if (serverUrl) out.push(new URL(serverUrl).hostname.toLowerCase());
  const wildcard = bound.address === '0.0.0.0' || bound.address === '::';
  const addrs = wildcard ? Object.values(networkInterfaces()).flatMap((l) => (l ?? []).filter((i) => bound.family === 'IPv6' || i.family === 'IPv4').map((i) => i.address)) : [bound.address];
  for (const a of addrs) out.push(a.includes(':') ? `[${a.toLowerCase()}]` : a);
  if (addrs.some((a) => a.startsWith('127.') || a === '::1')) out.push('localhost');
  return out;
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** The body as text, or 413 past `limit` bytes (refused before reading when the length says so). */
async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const announced = Number(req.headers['content-length'] ?? NaN);
  if (announced > limit) throw new HttpError(413, `at most ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `at most ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('latin1');
}

function sendText(req: IncomingMessage, res: ServerResponse, text: string, type: string, extra: Record<string, string>): void {
  const body = Buffer.from(text);
  res.writeHead(200, { ...SECURITY_HEADERS, ...extra, 'Content-Type': type, 'Content-Length': String(body.length) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A request path fit for a log line (printable ASCII, bounded). */
const safe = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
