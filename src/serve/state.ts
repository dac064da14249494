// What `kubebake serve` knows about each host's first boot, built from what it saw: seed files it
// served, the hosts' authenticated step reports, cloud-init's phone_home. Pure: every change is a
// function of the old state, the event and the server's clock (hosts' clocks are not trusted; a
// host may not have synchronised its clock yet). Persisted by store.ts.
import type { BootDefault } from '../render/delivery/pxe/boot-params.js';
import type { Role } from '../topology/types.js';

const INSTALL_STATES: readonly unknown[] = ['armed', 'installing', 'installed'] satisfies InstallState[];

/**
 * Whether the host's next network boot installs it. `armed`: its per-MAC boot script (iPXE, GRUB)
 * installs when nobody chooses — a host the server has never seen do anything, or one the
 * operator re-armed (`kubebake serve --reinstall`). `installing`: its installer fetched its
 * config (preseed/<host>.cfg, autoinstall/<host>/user-data) or its system fetched its seed
 * (nocloud/<host>/user-data), so from then on the script boots the local disk. `installed`: the
 * host's own system reported (a step report, or cloud-init's phone_home).
 *
 * Why the first fetch of the config, not the end of the install: a machine whose firmware boots
 * the network first comes back to PXE right after the installer's reboot, before its system ever
 * ran — "installing" must already mean "boot locally" then. An install that failed midway stays
 * installing and boots its (broken) disk: the operator re-arms it. Safe the other way round too: a
 * fetch by anyone else (a curious operator) only ever stops an install, never starts one.
 */
export type InstallState = 'armed' | 'installing' | 'installed';

/** How the live page and `kubebake status` name each install state. */
export const INSTALL_LABEL: Record<InstallState, string> = { armed: 'armed to install', installing: 'installing', installed: 'installed' };

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
  install: InstallState;
  /** When `--reinstall` armed the host (absent: armed since the server first knew it). */
  armedAt?: string;
  installStartedAt?: string;
  installedAt?: string;
  /**
   * When the host reported the end of its last step (it joined): from then on its secret-bearing
   * seed files are not served to anyone, until the operator re-arms it (`--reinstall`, rearm()).
   */
  sealedAt?: string;
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
  return { name: spec.name, role: spec.role, ip: spec.ip, phase: 'waiting', stepIndex: 0, steps: spec.steps.map((name) => ({ name })), log: [], seedFiles: [], boots: 0, install: 'armed' };
}

/** What the host's per-MAC boot script does without a choice (see InstallState). */
export const bootDefault = (h: HostStatus): BootDefault => (h.install === 'armed' ? 'install' : 'local');

/** `--reinstall`: the host starts afresh, armed to install on its next network boot, its seed served to it again. */
export const rearm = (spec: HostSpec, now: string): HostStatus => ({ ...initialHost(spec), armedAt: now, updatedAt: now });

/** Its installer fetched its config, or its system its seed: from now on it boots locally. */
export function installStarted(h: HostStatus, now: string): HostStatus {
  return h.install === 'armed' ? { ...h, install: 'installing', installStartedAt: now, updatedAt: now } : h;
}

/** Its own system reported: installed (and not armed any more, whatever it was). */
const installed = (h: HostStatus, now: string): Pick<HostStatus, 'install' | 'installedAt'> =>
  h.install === 'installed' ? { install: h.install, installedAt: h.installedAt } : { install: 'installed', installedAt: now };

const before = (phase: Phase, ...earlier: Phase[]): boolean => earlier.includes(phase);

/** The host served one of its seed (or PXE) files. */
export function seedServed(h: HostStatus, file: string, now: string): HostStatus {
  const seedFiles = h.seedFiles.includes(file) ? h.seedFiles : [...h.seedFiles, file];
  return { ...h, seedFiles, seedFetchedAt: h.seedFetchedAt ?? now, phase: h.phase === 'waiting' ? 'seed-fetched' : h.phase, updatedAt: now };
}

/** cloud-init's phone_home arrived: its final stage ran (after runcmd). */
export function phoneHome(h: HostStatus, now: string): HostStatus {
  return { ...h, ...installed(h, now), cloudInitDoneAt: now, phase: before(h.phase, 'waiting', 'seed-fetched') ? 'booting' : h.phase, updatedAt: now };
}

/** Applies one authenticated report; the step names were checked against the host's steps. */
export function applyReport(host: HostStatus, r: ReportEvent, now: string): HostStatus {
  const h = { ...host, ...installed(host, now) };
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
    return { ...h, steps, stepIndex: i + 1, phase: last ? 'done' : 'running', ...(last ? { sealedAt: h.sealedAt ?? now } : {}), updatedAt: now };
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
    if (!old) return fresh;
    // Whether it is installed outlives everything else: a host that started afresh because its
    // steps changed (a new kubebake, a re-render) must not be reinstalled for that. A state file
    // from before the field existed: a host that did anything is installed.
    const install: Pick<HostStatus, 'install' | 'armedAt' | 'installStartedAt' | 'installedAt'> = INSTALL_STATES.includes(old.install)
      ? { install: old.install, armedAt: old.armedAt, installStartedAt: old.installStartedAt, installedAt: old.installedAt }
      : { install: old.phase === undefined || old.phase === 'waiting' ? 'armed' : 'installed' };
    // So does its seal: a re-render must not hand a joined host's secrets out again.
    const sealed = typeof old.sealedAt === 'string' ? { sealedAt: old.sealedAt } : {};
    if (!Array.isArray(old.steps) || old.steps.map((s) => s?.name).join('\n') !== spec.steps.join('\n')) return { ...fresh, ...install, ...sealed };
    return { ...fresh, ...old, ...install, sealedAt: undefined, ...sealed, name: spec.name, role: spec.role, ip: spec.ip };
  });
}
