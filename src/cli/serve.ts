// `kubebake serve`: the provisioning server of one rendered cluster (src/serve/server.ts).
// Reads the topology and the secrets store (never changes it), serves <out>/<cluster>/pxe/ and
// keeps the hosts' progress in <out>/<cluster>/serve-state/ (locked: one server per cluster) until
// SIGINT or SIGTERM.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DiagnosticError, diagnosticOf, problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { buildHostManifests } from '../manifest/host-manifest.js';
import { acquireLock } from '../output/lock.js';
import { buildPlan } from '../plan/plan.js';
import { reportKey } from '../plan/report-keys.js';
import { loadOrCreateSecrets, storePath } from '../store/secrets-store.js';
import { hostBootScripts } from '../render/delivery/pxe/tree.js';
import { startServer, type ServeHost } from '../serve/server.js';
import { EXIT } from './exit.js';
import { say, usageError } from './say.js';
import { loadAndReport } from './validate.js';

export interface ServeOptions { file: string; out: string; listen?: string; reinstall?: string }

/** ADDR:PORT ([v6]:PORT for IPv6), or why not. */
export function parseListen(text: string): { host: string; port: number } | { diagnostics: Diagnostic[] } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return { diagnostics: [problem(msg.badListen(text))] };
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

export async function runServe(opts: ServeOptions): Promise<number> {
  const loaded = await loadAndReport(opts);
  if (!loaded.topology) return EXIT.invalid;
  const plan = buildPlan(loaded.topology);
  const server = plan.delivery.server;
  // By default only on delivery.server's address (the provisioning network), not every interface;
  // without a server, loopback only.
  const listen = parseListen(opts.listen ?? (server ? `${new URL(server).hostname}:${new URL(server).port || 80}` : '127.0.0.1:8080'));
  if ('diagnostics' in listen) {
    return usageError(listen.diagnostics[0]!);
  }
  const reinstall = opts.reinstall === undefined ? [] : opts.reinstall.split(',').map((h) => h.trim());
  const unknown = reinstall.filter((h) => !plan.nodes.some((n) => n.name === h));
  if (unknown.length) return usageError(msg.unknownReinstallHosts(unknown, plan.name));
  for (const h of reinstall.filter((h) => !plan.nodes.find((n) => n.name === h)!.mac)) {
    process.stderr.write(`warning: --reinstall ${h}: it has no MAC, so no boot script of its own: choose its entry in grub/grub.cfg's menu\n`);
  }
  const clusterDir = join(opts.out, plan.name);
  const secretsDir = join(clusterDir, 'secrets');
  if (!(await stat(secretsDir).catch(() => undefined))) {
    say(msg.serveNoSecrets(secretsDir, opts.file, opts.out));
    return EXIT.invalid;
  }
  // Only read: the server never creates or changes a secret.
  const stored = await loadOrCreateSecrets(secretsDir, { identity: { name: plan.name, apiEndpoint: plan.endpoint.hostPort, nodeSubnet: plan.network.nodeSubnet } });
  if ('diagnostics' in stored) {
    process.stderr.write(formatDiagnostics(stored.diagnostics));
    return EXIT.invalid;
  }
  if (stored.changes.includes(storePath('reportSecret'))) {
    say(msg.serveNoReportSecret(secretsDir, storePath('reportSecret'), opts.file, opts.out));
    return EXIT.invalid;
  }
  if (!server) process.stderr.write('warning: the topology has no delivery.server: hosts rendered from it do not report their steps; only seed fetches show\n');
  const hosts: ServeHost[] = buildHostManifests(plan, stored.secrets).map((m) => ({
    name: m.node.name,
    role: m.node.role,
    ip: m.node.ip,
    mac: m.node.mac,
    steps: m.steps.map((s) => s.name),
    key: reportKey(stored.secrets.reportSecret, m.node.name),
    // Only a host with a MAC has a boot script of its own (pxe/tree.ts).
    ...(server && m.node.mac ? { bootScripts: { install: hostBootScripts(plan, server, m.node, 'install'), local: hostBootScripts(plan, server, m.node, 'local') } } : {}),
  }));
  const pxeRoot = join(clusterDir, 'pxe');
  if (!(await stat(pxeRoot).catch(() => undefined))) process.stderr.write(`warning: ${pxeRoot} does not exist yet: no seed can be served until a render writes it\n`);
  // One server per cluster: two would each rewrite state.json from their own memory, and the
  // hosts' reports would flip between them.
  const stateDir = join(clusterDir, 'serve-state');
  let unlock: () => Promise<void>;
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    unlock = await acquireLock(stateDir, { waitSeconds: 0, busy: msg.serveLocked });
  } catch (e) {
    // Worded as serve always said it: the busy lock's message, or the system's own words for why not.
    say(diagnosticOf(e, 'output.locked') ?? msg.serveCannotLock(stateDir, ((e instanceof DiagnosticError ? e.cause : e) as Error).message));
    return EXIT.invalid;
  }
  let running;
  try {
    running = await startServer(
      { cluster: plan.name, hosts, pxeRoot, stateDir, reinstall, serverUrl: server, log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`) },
      listen,
    );
  } catch (e) {
    await unlock();
    say(msg.serveCannotListen(opts.listen ?? `${listen.host}:${listen.port}`, (e as Error).message));
    return EXIT.invalid;
  }
  process.stdout.write(`serving ${pxeRoot} and the live page on ${running.url} (${hosts.length} hosts; state in ${join(clusterDir, 'serve-state')}); Ctrl-C stops\n`);
  const sig = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write(`${sig}: stopping\n`);
  await running.close();
  await unlock();
  return EXIT.ok;
}
