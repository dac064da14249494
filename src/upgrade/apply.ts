// `kubebake upgrade apply`: the plan carried out one node at a time — cordon, drain through the
// Eviction API, the node's upgrade step over SSH, wait until the Node is Ready at the new version,
// uncordon — recording each finished action (state.ts), so a killed run continues where it
// stopped. It stops at the first failure, naming the node, the action and the cause.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { upgradeMsg } from '../diagnostics/messages.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { escapeControl } from '../diagnostics/escape.js';
import { getNode, isDiagnostic, kubeadmClusterConfiguration, setUnschedulable } from '../api/cluster.js';
import type { KubeClient } from '../api/cluster-objects.js';
import { drainNode, podsToEvict } from '../api/drain.js';
import { DiagnosticError, problem } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import type { ClusterPlan } from '../plan/plan.js';
import { upgradeStep } from '../steps/upgrade.js';
import type { Topology } from '../topology/types.js';
import { EXIT, SIGNAL_EXIT } from '../diagnostics/exit.js';
import { q } from '../steps/shell.js';
import { clusterConfigVersion, readClusterFacts } from './facts.js';
import { formatUpgradePlan } from './format.js';
import { buildUpgradePlan, type NodeUpgrade, type UpgradePlan } from './plan.js';
import { NOT_SET_UP, remoteUpgradeScript } from './remote.js';
import { runScriptOnStdin, sshArgv, SSH_FAILED, type RemoteHost, type SshAccess } from '../remote/ssh.js';
import { ACTIONS, nodeInProgress, readUpgradeState, writeUpgradeState, type Action, type UpgradeState } from './state.js';

export interface ApplyOptions {
  topology: Topology;
  plan: ClusterPlan;
  /** The topology file as given (for the next commands printed). */
  file: string;
  clusterDir: string;
  api: KubeClient;
  sshConfig?: string;
  drainMs: number;
  stepMs: number;
  readyMs: number;
  /** How often the Node is read while waiting for it. */
  pollMs?: number;
  dryRun: boolean;
  signal: AbortSignal;
  out: (line: string) => void;
}

type Outcome = { ok: true } | { code: number; problem?: Diagnostic; details?: string[] };

/** The exit code of the signal that stopped the run (SIGINT's when the reason is not a signal). */
const stoppedBy = (signal: AbortSignal): number => SIGNAL_EXIT[signal.reason as string] ?? SIGNAL_EXIT.SIGINT!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function applyUpgrade(o: ApplyOptions): Promise<number> {
  const facts = await readClusterFacts(o.api);
  if (isDiagnostic(facts)) return fail([facts], EXIT.invalid);
  const target = o.plan.kubernetes.version;
  const saved = await readUpgradeState(o.clusterDir);
  const up = buildUpgradePlan(o.topology, o.plan, facts, nodeInProgress(saved, target));
  if (up.refusals.length) {
    process.stderr.write(formatUpgradePlan(up, o.file));
    return fail(up.refusals.map((m) => problem(m)), EXIT.invalid);
  }
  const todo = up.nodes.filter((n) => !n.done);
  if (!todo.length) {
    o.out(`cluster ${up.cluster}: every node runs v${target} already; nothing to do`);
    if (saved && saved.target === target && !saved.completedAt && !o.dryRun) await writeUpgradeState(o.clusterDir, { ...saved, completedAt: new Date().toISOString() });
    return EXIT.ok;
  }
  if (o.dryRun) return dryRun(o, up);
  const state: UpgradeState = saved && saved.target === target ? saved : { target, from: up.from, startedAt: new Date().toISOString(), nodes: {} };
  if (saved && saved.target !== target && !saved.completedAt) o.out(`note: the upgrade to v${saved.target} did not finish; this one to v${target} replaces it`);
  o.out(`upgrading cluster ${up.cluster} from v${up.from} to v${target}: ${todo.map((n) => n.name).join(', ')}`);
  for (const [i, n] of up.nodes.entries()) {
    if (n.done) continue;
    const done = (state.nodes[n.name] ??= []);
    for (const action of ACTIONS) {
      if (done.includes(action)) continue;
      if (o.signal.aborted) return stoppedBy(o.signal);
      const label = `[${i + 1}/${up.nodes.length}] ${n.name}`;
      o.out(`${label}: ${action}…`);
      const r = await runAction(o, up, n, action);
      if (!('ok' in r)) {
        await writeUpgradeState(o.clusterDir, state);
        if (r.problem) {
          process.stderr.write(formatDiagnostics([{ ...r.problem, ...upgradeMsg.onNode(n.name, action, r.problem) }]));
          for (const line of r.details ?? []) process.stderr.write(`${escapeControl(line)}\n`);
        }
        return r.code;
      }
      done.push(action);
      await writeUpgradeState(o.clusterDir, state);
    }
    o.out(`[${i + 1}/${up.nodes.length}] ${n.name}: runs v${target}`);
  }
  await writeUpgradeState(o.clusterDir, { ...state, completedAt: new Date().toISOString() });
  o.out(`cluster ${up.cluster} runs v${target} on every node`);
  o.out(`next: kubebake render cloud-init -f ${o.file}   (hosts booted from now on install v${target})`);
  return EXIT.ok;
}

function fail(ds: Diagnostic[], code: number): number {
  process.stderr.write(formatDiagnostics(ds));
  return code;
}

async function runAction(o: ApplyOptions, up: UpgradePlan, n: NodeUpgrade, action: Action): Promise<Outcome> {
  switch (action) {
    case 'cordon':
    case 'uncordon': {
      const d = await setUnschedulable(o.api, n.name, action === 'cordon');
      return d ? { code: EXIT.clusterFailed, problem: d } : { ok: true };
    }
    case 'drain': {
      // The one drain of kubebake (api/drain.ts, as kubectl drain): it cordons again (harmless) and evicts.
      const client = o.api;
      try {
        await drainNode(client, n.name, { deadline: Date.now() + o.drainMs, log: (l) => o.out(`  ${l}`) });
        return { ok: true };
      } catch (e) {
        if (!(e instanceof DiagnosticError)) throw e;
        const d = e.diagnostics[0]!;
        return { code: d.code === 'drain.timed-out' ? EXIT.waitTimedOut : EXIT.clusterFailed, problem: d };
      }
    }
    case 'upgrade':
      return upgradeNode(o, up, n);
    case 'ready':
      return waitReady(o, n, up.to);
  }
}

const sshAccess = (o: ApplyOptions): SshAccess => ({ user: o.topology.access.adminUser, configFile: o.sshConfig, timeoutMs: o.stepMs });
const remoteHost = (n: NodeUpgrade): RemoteHost => ({ name: n.name, address: n.ip });

function stepFor(o: ApplyOptions, up: UpgradePlan, n: NodeUpgrade): string {
  const node = o.plan.nodes.find((p) => p.name === n.name)!;
  return remoteUpgradeScript(upgradeStep(o.plan, node, { kubeadm: n.kubeadm, cni: n.kubeadm === 'apply' && up.cni.changes }));
}

async function upgradeNode(o: ApplyOptions, up: UpgradePlan, n: NodeUpgrade): Promise<Outcome> {
  if (n.kubeadm === 'node') {
    // kubeadm upgrade node takes the version kubeadm-config names: the first control plane's apply must have run.
    const config = await kubeadmClusterConfiguration(o.api);
    if (isDiagnostic(config)) return { code: EXIT.clusterFailed, problem: config };
    const cluster = config === undefined ? 'unknown' : (clusterConfigVersion(config) ?? 'unknown');
    if (cluster !== up.to) return { code: EXIT.clusterFailed, problem: problem(upgradeMsg.applyNotDone(n.name, cluster, up.to)) };
  }
  const access = sshAccess(o);
  const r = await runScriptOnStdin(access, remoteHost(n), stepFor(o, up, n), o.signal);
  if (r.aborted) return { code: stoppedBy(o.signal) };
  if (r.timedOut) return { code: EXIT.waitTimedOut, problem: problem(upgradeMsg.stepTimedOut(n.name, o.stepMs / 1000)) };
  if (r.status === 0) return { ok: true };
  const lines = r.stderr.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  // The node's log tail comes as "  log: <line>" (an empty log line: "  log:", once trimmed).
  const isLog = (l: string): boolean => /^ {2}log:( |$)/.test(l);
  const log = lines.filter(isLog);
  const said = lines.filter((l) => !isLog(l));
  const last = said.at(-1) ?? `exit status ${r.status}`;
  if (r.status === SSH_FAILED || /^sudo: /.test(last)) return { code: EXIT.clusterFailed, problem: problem(msg.sshFailed(n.name, n.ip, access.user, last, false)) };
  if (r.status === NOT_SET_UP) return { code: EXIT.clusterFailed, problem: problem(upgradeMsg.stepFailed(n.name, last.replace(/^kubebake: /, ''))) };
  const reason = /kubebake: step upgrade failed: (.*) \(see [^)]*\)$/.exec(said.join('\n'))?.[1] ?? last;
  return { code: EXIT.clusterFailed, problem: problem(upgradeMsg.stepFailed(n.name, reason)), details: log };
}

async function waitReady(o: ApplyOptions, n: NodeUpgrade, target: string): Promise<Outcome> {
  const deadline = Date.now() + o.readyMs;
  let seen = 'not read yet';
  for (;;) {
    const node = await getNode(o.api, n.name);
    if (isDiagnostic(node)) return { code: EXIT.clusterFailed, problem: node };
    if (node) {
      if (node.ready && node.kubeletVersion.replace(/^v/, '') === target) return { ok: true };
      seen = `${node.ready ? 'Ready' : 'NotReady'}, kubelet ${node.kubeletVersion || 'unknown'}`;
    } else seen = 'no Node of that name';
    if (o.signal.aborted) return { code: stoppedBy(o.signal) };
    if (Date.now() >= deadline) return { code: EXIT.waitTimedOut, problem: problem(upgradeMsg.nodeNotBack(n.name, target, seen, o.readyMs / 1000)) };
    await sleep(Math.min(o.pollMs ?? 2000, Math.max(0, deadline - Date.now())));
  }
}

/** --dry-run: every action, in order, and the script each node would run; nothing is changed. */
async function dryRun(o: ApplyOptions, up: UpgradePlan): Promise<number> {
  o.out(`dry run: upgrading cluster ${up.cluster} from v${up.from} to v${up.to} would do, in this order (nothing is changed):`);
  const scripts = new Map<string, string>();
  for (const [i, n] of up.nodes.entries()) {
    const label = `[${i + 1}/${up.nodes.length}] ${n.name}`;
    if (n.done) {
      o.out(`${label}: nothing (runs v${up.to}, Ready, schedulable)`);
      continue;
    }
    let pods;
    try {
      pods = podsToEvict(await o.api.podsOn(n.name), false);
    } catch (e) {
      if (e instanceof DiagnosticError) return fail(e.diagnostics, EXIT.invalid);
      throw e;
    }
    const name = (p: { metadata: { namespace: string; name: string } }): string => `${p.metadata.namespace}/${p.metadata.name}`;
    const evict = pods.evict.map(name);
    const unmanaged = pods.unmanaged.map(name);
    const script = stepFor(o, up, n);
    const key = `${n.kubeadm}${n.kubeadm === 'apply' && up.cni.changes ? '+cni' : ''}`;
    if (!scripts.has(key)) scripts.set(key, script);
    o.out(`${label}: cordon: PATCH /api/v1/nodes/${n.name} spec.unschedulable=true`);
    o.out(`${label}: drain: evict ${evict.length ? evict.join(', ') : 'no pod'} through the Eviction API (DaemonSet and static pods stay)${unmanaged.length ? `; refused, no controller: ${unmanaged.join(', ')}` : ''}; bound ${o.drainMs / 1000} s`);
    if (n.kubeadm === 'node') o.out(`${label}: check that kube-system/kubeadm-config says v${up.to}`);
    o.out(`${label}: upgrade: ssh ${sshArgv(sshAccess(o), remoteHost(n), 'stdin').map(q).join(' ')} < the "${key}" script below; bound ${o.stepMs / 1000} s`);
    o.out(`${label}: ready: wait until Node ${n.name} is Ready with kubelet v${up.to}; bound ${o.readyMs / 1000} s`);
    o.out(`${label}: uncordon: PATCH /api/v1/nodes/${n.name} spec.unschedulable=false`);
  }
  for (const [key, script] of scripts) o.out(`\n--- the "${key}" script (its standard input; the node writes the step to /usr/local/lib/kubebake/upgrade.sh) ---\n${script.trimEnd()}\n--- end ---`);
  return EXIT.ok;
}
