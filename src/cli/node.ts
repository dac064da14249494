// `kubebake node remove NAME` and `kubebake node replace NAME`: a node out of the running cluster
// (src/day2/take-out.ts), then the output brought in line with the topology, which stays the
// source of truth:
// - remove: the operator deletes the host from the topology first (refused otherwise); the load
//   balancers get the topology's haproxy.cfg, and the render afterwards removes hosts/NAME/;
// - replace: the host stays in the topology (its address may change); afterwards a fresh
//   bootstrap token is registered and every joining host re-rendered (as `token create` does), so
//   NAME's seed is new (new token, so new instance-id) for the machine that takes its place.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticError, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { takeOut, type TakeOutResult } from '../day2/take-out.js';
import type { SshAccess } from '../remote/ssh.js';
import { durationSeconds } from '../util/duration.js';
import { fail, failAt, openCluster, type ClusterAccess, type ClusterOptions } from './cluster-access.js';
import { EXIT } from './exit.js';
import { runRenderCloudInit } from './render.js';
import { say } from './say.js';
import { register } from './token.js';

export interface NodeOptions extends ClusterOptions {
  sshConfig?: string;
  drainTimeout?: string;
  evictUnmanaged?: boolean;
  unreachable?: boolean;
  delivery?: string;
  force?: boolean;
}

/** One remote command's bound: kubeadm reset stops containers and may take minutes. */
const SSH_TIMEOUT_MS = 300_000;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** The options checked, the cluster opened, and where `name` is in the topology's hosts (-1: not there). */
async function open(name: string, opts: NodeOptions): Promise<{ c: ClusterAccess; drainMs: number; at: number } | number> {
  const drainMs = drainTimeout(opts);
  if (drainMs === undefined) return EXIT.usage;
  const c = await openCluster(opts);
  if (typeof c === 'number') return c;
  return { c, drainMs, at: c.loaded.topology.hosts.findIndex((h) => h.name === name) };
}

export async function runNodeRemove(name: string, opts: NodeOptions): Promise<number> {
  const o = await open(name, opts);
  if (typeof o === 'number') return o;
  const { c, drainMs, at } = o;
  if (at >= 0) return failAt(c, [{ severity: 'error', path: ['hosts', at, 'name'], ...msg.nodeStillInTopology(name) }]);
  // Neither in the cluster nor in the last render: a typo, most likely; nothing is touched.
  const known = await guard(async () => (await c.client.node(name)) !== undefined || existsSync(join(c.clusterDir, 'hosts', name)));
  if ('diagnostics' in known) return exitFor(known.diagnostics);
  if (!known.value) {
    const nodes = await guard(async () => (await c.client.nodes()).map((n) => n.metadata.name));
    return exitFor('diagnostics' in nodes ? nodes.diagnostics : [{ severity: 'error', path: [], ...msg.nodeNotInCluster(name, nodes.value) }]);
  }
  const r = await run(c, name, undefined, opts, drainMs);
  if (!r.done) return exitFor(r.diagnostics);
  log(`${name} is out of the cluster; the output follows the topology:`);
  return runRenderCloudInit({ file: opts.file, out: opts.out, requireStore: true, delivery: opts.delivery, force: opts.force });
}

export async function runNodeReplace(name: string, opts: NodeOptions): Promise<number> {
  const o = await open(name, opts);
  if (typeof o === 'number') return o;
  const { c, drainMs, at } = o;
  const hosts = c.loaded.topology.hosts;
  if (at < 0) return fail([{ severity: 'error', path: ['hosts'], ...msg.nodeNotInTopology(name, hosts.map((h) => h.name)) }]);
  const host = hosts[at]!;
  if (host.role === 'load-balancer') return failAt(c, [{ severity: 'error', path: ['hosts', at, 'role'], ...msg.nodeNotALoadBalancer(name) }]);
  // The first control plane's seed runs kubeadm init: a fresh one would start another cluster.
  if (c.plan.nodes[at]!.initNode) {
    const others = c.plan.nodes.filter((n) => n.role === 'control-plane' && n.name !== name);
    const last = others.length === 0 ? msg.lastControlPlane(name) : msg.replaceInitNode(name);
    return failAt(c, [{ severity: 'error', path: ['hosts', at, 'name'], ...last }]);
  }
  const r = await run(c, name, host, opts, drainMs);
  if (!r.done) return exitFor(r.diagnostics);
  log(`${name} is out of the cluster; a fresh bootstrap token and seed for its new machine:`);
  const code = await runRenderCloudInit({
    file: opts.file,
    out: opts.out,
    requireStore: true,
    rotateToken: true,
    delivery: opts.delivery,
    force: opts.force,
    register: (plan) => register(plan, c.server, c.timeoutMs),
  });
  if (code !== EXIT.ok) return code;
  const metaData = join(c.clusterDir, 'hosts', name, 'meta-data');
  const instanceId = /^instance-id: (.+)$/m.exec(readFileSync(metaData, 'utf8'))?.[1];
  process.stdout.write(
    `boot the new ${name} from ${join(c.clusterDir, 'hosts', name)}/ (its seed.iso, or the form its platform takes; instance-id ${instanceId});` +
      ` with kubebake serve: --reinstall ${name}\n`,
  );
  return EXIT.ok;
}

async function run(c: ClusterAccess, name: string, host: Parameters<typeof takeOut>[2], opts: NodeOptions, drainMs: number): Promise<TakeOutResult> {
  const ssh: SshAccess = { user: c.plan.access.adminUser, configFile: opts.sshConfig, timeoutMs: SSH_TIMEOUT_MS };
  const r = await guard(() =>
    takeOut(c.plan, name, host, {
      client: c.client,
      ssh,
      drainDeadline: Date.now() + drainMs,
      evictUnmanaged: opts.evictUnmanaged ?? false,
      unreachable: opts.unreachable ?? false,
      log,
    }),
  );
  return 'diagnostics' in r ? { done: false, diagnostics: r.diagnostics } : r.value;
}

/** `fn`'s value, or the diagnostics of the DiagnosticError it threw (an API that refused or did not answer). */
async function guard<T>(fn: () => Promise<T>): Promise<{ value: T } | { diagnostics: Diagnostic[] }> {
  try {
    return { value: await fn() };
  } catch (e) {
    if (e instanceof DiagnosticError) return { diagnostics: e.diagnostics };
    throw e;
  }
}

/** A drain that ran out of time is a bounded wait that ran out (EXIT.waitTimedOut); anything else is a refusal. */
function exitFor(diagnostics: Diagnostic[]): number {
  fail(diagnostics);
  return diagnostics.some((d) => d.code === 'drain.timed-out') ? EXIT.waitTimedOut : EXIT.invalid;
}

function drainTimeout(opts: NodeOptions): number | undefined {
  const s = durationSeconds(opts.drainTimeout ?? '10m');
  if (s === undefined || s <= 0) {
    say(msg.badDrainTimeout(opts.drainTimeout));
    return undefined;
  }
  return s * 1000;
}
