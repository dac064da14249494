// What `kubebake serve` knows about each host's first boot, built from what it saw: seed files it
// served, the hosts' authenticated step reports, cloud-init's phone_home. Pure: every change is a
// function of the old state, the event and the server's clock (hosts' clocks are not trusted; a
// host may not have synchronised its clock yet). Persisted by store.ts.
import type { Role } from '../topology/types.js';

/** waiting → seed-fetched → booting → running (step N of M) → done | failed. */
export type Phase = 'waiting' | 'seed-fetched' | 'booting' | 'running' | 'done' | 'failed';
export type Verdict = 'waiting' | 'in-progress' | 'ready' | 'failed';

export interface StepState {
  name: string;
  startedAt?: string;
  endedAt?: string;
  /** The step's exit status when it failed. */
  failedRc?: number;
}

export interface HostStatus {
  name: string;
  role: Role;
  ip: string;
  phase: Phase;
  /** 1-based position of the step running, last run or failed; 0 before any. */
  stepIndex: number;
  steps: StepState[];
  /** Why the host failed: the last line of its log, as the runner records it. */
  reason?: string;
  /** The last log lines the host sent with its failure. */
  log: string[];
  seedFetchedAt?: string;
  /** Seed files served, by name (user-data, meta-data, …, ipxe). */
  seedFiles: string[];
  bootedAt?: string;
  boots: number;
  /** cloud-init's phone_home: its final stage ran. */
  cloudInitDoneAt?: string;
  updatedAt?: string;
}

export interface ClusterStatus {
  cluster: string;
  verdict: Verdict;
  hosts: HostStatus[];
}

/** A host of the plan: its name, role, address and steps in run order. */
export interface HostSpec { name: string; role: Role; ip: string; steps: readonly string[] }

export type ReportEvent =
  | { event: 'boot' }
  | { event: 'start'; step: string }
  | { event: 'end'; step: string }
  | { event: 'fail'; step: string; rc?: number; log: string[] };

export function initialHost(spec: HostSpec): HostStatus {
  return { name: spec.name, role: spec.role, ip: spec.ip, phase: 'waiting', stepIndex: 0, steps: spec.steps.map((name) => ({ name })), log: [], seedFiles: [], boots: 0 };
}

const before = (phase: Phase, ...earlier: Phase[]): boolean => earlier.includes(phase);

/** The host served one of its seed (or PXE) files. */
export function seedServed(h: HostStatus, file: string, now: string): HostStatus {
  const seedFiles = h.seedFiles.includes(file) ? h.seedFiles : [...h.seedFiles, file];
  return { ...h, seedFiles, seedFetchedAt: h.seedFetchedAt ?? now, phase: h.phase === 'waiting' ? 'seed-fetched' : h.phase, updatedAt: now };
}

/** cloud-init's phone_home arrived: its final stage ran (after runcmd). */
export function phoneHome(h: HostStatus, now: string): HostStatus {
  return { ...h, cloudInitDoneAt: now, phase: before(h.phase, 'waiting', 'seed-fetched') ? 'booting' : h.phase, updatedAt: now };
}

/** Applies one authenticated report; the step names were checked against the host's steps. */
export function applyReport(h: HostStatus, r: ReportEvent, now: string): HostStatus {
  if (r.event === 'boot') {
    // A reboot after a failure resumes at the failed step: the host is booting again.
    return { ...h, bootedAt: now, boots: h.boots + 1, phase: h.phase === 'done' ? 'done' : 'booting', updatedAt: now };
  }
  const i = h.steps.findIndex((s) => s.name === r.step);
  const steps = h.steps.slice();
  if (r.event === 'start') {
    steps[i] = { name: r.step, startedAt: now };
    return { ...h, steps, stepIndex: i + 1, phase: 'running', reason: undefined, log: [], updatedAt: now };
  }
  if (r.event === 'end') {
    steps[i] = { ...steps[i]!, endedAt: now };
    const last = i === steps.length - 1;
    return { ...h, steps, stepIndex: i + 1, phase: last ? 'done' : 'running', updatedAt: now };
  }
  steps[i] = { ...steps[i]!, endedAt: now, failedRc: r.rc };
  const reason = `${r.step}: ${r.log.at(-1) ?? (r.rc === undefined ? 'failed' : `exit status ${r.rc}`)}`;
  return { ...h, steps, stepIndex: i + 1, phase: 'failed', reason, log: r.log, updatedAt: now };
}

export function verdictOf(hosts: readonly HostStatus[]): Verdict {
  if (hosts.some((h) => h.phase === 'failed')) return 'failed';
  if (hosts.length > 0 && hosts.every((h) => h.phase === 'done')) return 'ready';
  if (hosts.every((h) => h.phase === 'waiting')) return 'waiting';
  return 'in-progress';
}

/**
 * Host records read back from the state file, kept where they still fit the plan: a host that
 * left the topology is dropped, and a step list that changed starts that host afresh.
 */
export function restoreHosts(specs: readonly HostSpec[], saved: unknown): HostStatus[] {
  const byName = new Map<string, HostStatus>();
  if (saved && typeof saved === 'object' && Array.isArray((saved as { hosts?: unknown }).hosts)) {
    for (const h of (saved as { hosts: HostStatus[] }).hosts) if (h && typeof h.name === 'string') byName.set(h.name, h);
  }
  return specs.map((spec) => {
    const old = byName.get(spec.name);
    const fresh = initialHost(spec);
    if (!old || !Array.isArray(old.steps) || old.steps.map((s) => s?.name).join('\n') !== spec.steps.join('\n')) return fresh;
    return { ...fresh, ...old, name: spec.name, role: spec.role, ip: spec.ip };
  });
}
