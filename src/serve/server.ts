// `kubebake serve`: the provisioning server of one cluster. Serves the PXE tree read-only (see
// files.ts), takes each host's progress (authenticated step reports, cloud-init's phone_home),
// keeps it in memory and in serve-state/, and shows it: the live page at /, JSON at
// /api/status, Server-Sent Events at /events.
//
// Against hostile clients: bodies are capped (413 before reading when the length is announced),
// headers and whole requests have deadlines (Node's headersTimeout / requestTimeout, checked
// every second), a report needs its host's own key (401 without, 403 with another), anything
// unparseable is a 400, and a handler that throws answers 500 instead of stopping the server.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { reportPath, phoneHomePath } from '../steps/report.js';
import { contentType, etagOf, lookup, openInside, requestPath, servedFiles, type ServedFile } from './files.js';
import { livePage } from './page.js';
import { parseReport } from './report-body.js';
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
  /** Hosts to re-arm for installing (`--reinstall`): they start afresh, and their next network boot installs them. */
  reinstall?: readonly string[];
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

export async function startServer(cfg: ServeConfig, listen: { host: string; port: number }): Promise<RunningServer> {
  const limits = { ...DEFAULT_LIMITS, ...cfg.limits };
  const now = (): string => (cfg.now ?? (() => new Date()))().toISOString();
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '');
    if (!bearer) throw new HttpError(401, 'a report needs the host key (Authorization: Bearer …)', { 'WWW-Authenticate': 'Bearer' });
    if (!sameKey(bearer[1]!, host.key)) throw new HttpError(403, `not ${host.name}'s key`);
    if (!(req.headers['content-type'] ?? '').startsWith('text/plain')) throw new HttpError(415, 'reports are text/plain');
    const report = parseReport(await readBody(req, limits.bodyBytes), host.steps);
    if ('error' in report) throw new HttpError(400, `malformed report: ${report.error}`);
    update(applyReport(hosts.get(host.name)!, report, now()));
    log(`${host.name}: ${report.event}${'step' in report ? ` ${report.step}` : ''}${report.event === 'fail' ? ` (${safe(hosts.get(host.name)!.reason ?? '')})` : ''}`);
    res.writeHead(204, SECURITY_HEADERS).end();
  }

  /** cloud-init's phone_home: form data, no key (it cannot send one); it only marks "cloud-init finished". */
  async function receivePhoneHome(req: IncomingMessage, res: ServerResponse, host: ServeHost): Promise<void> {
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
    if (events.size >= limits.eventClients) throw new HttpError(503, 'too many live pages open', { 'Retry-After': '10' });
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') return void res.end();
    res.write(`retry: 2000\nevent: status\ndata: ${JSON.stringify(status())}\n\n`);
    events.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    res.on('close', () => {
      clearInterval(ping);
      events.delete(res);
    });
  }

  async function sendFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const checked = requestPath(path);
    if ('status' in checked) throw new HttpError(checked.status, checked.why);
    const entry = lookup(table, checked.rel);
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

/** Constant-time comparison of the presented key with the host's (both 64 hex digits). */
function sameKey(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
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
