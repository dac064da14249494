// kubebake's runtime on a host: the helper library, the first-boot runner, its unit and the
// firewall unit. A first-boot host gets it in its own user-data, with exactly the helpers its steps
// use: user-data is the one document every delivery path hands a host (hypervisor UIs with one
// user-data box, virt-install --cloud-init, EC2-style datasources and Ubuntu's installed system
// after autoinstall get no vendor-data), so nothing a host needs may travel anywhere else.
// A baked image carries the runtime instead (installed by its `runtime` provisioner) together with
// the steps that are the same on every host, so a baked host's user-data holds only what is its
// own. The image records the runtime's digest, and the baked host's image-check step refuses an
// image whose runtime is not the one it was rendered for.
import { createHash } from 'node:crypto';
import { renderFirewallUnit } from '../config/firewall-nft.js';
import { renderFirstbootUnit } from '../config/firstboot-unit.js';
import { HOST_PATHS, stepPath } from '../plan/host-paths.js';
import type { ClusterPlan } from '../plan/plan.js';
import { workerJoinStep } from '../steps/bootstrap.js';
import { firewallStep } from '../steps/firewall.js';
import { RUNNER } from '../steps/firstboot.js';
import { APT_GET, APT_SOURCE, PICK_VERSION, RETRY, WAIT_FOR } from '../steps/helpers.js';
import { REPORT } from '../steps/report.js';
import { RESOLVER_STEP } from '../steps/resolver.js';
import { ADDRESS_STEP } from '../steps/address.js';
import { hostScript, libraryScript, runnerScript } from '../steps/scripts.js';
import { helperClosure, type ShellHelper, type Step } from '../steps/step.js';
import type { FileMode, HostFile } from './host-manifest.js';

const runtimeFile = (path: string, content: string, mode: FileMode = '0644'): HostFile => ({ path, mode, content, from: [] });

/** A step as a host keeps it (run by the runner). */
export const stepFile = (step: Step): HostFile => runtimeFile(stepPath(step.name), hostScript(step));

const runner = runtimeFile(HOST_PATHS.firstboot, runnerScript(RUNNER), '0755');
const runnerUnit = runtimeFile(HOST_PATHS.firstbootUnit, renderFirstbootUnit(HOST_PATHS.firstboot));
const firewallUnit = runtimeFile(HOST_PATHS.firewallUnit, renderFirewallUnit(HOST_PATHS.firewallRuleset));

/** The progress-report hook (steps/report.ts), last in the library: only with a provisioning server. */
const reportHook = (plan: ClusterPlan): ShellHelper[] => (plan.delivery.server ? [REPORT] : []);

/** What a first-boot host needs besides its own steps: the helpers they use, the runner and its unit, the firewall unit. */
export function firstBootRuntime(plan: ClusterPlan, steps: readonly Step[]): HostFile[] {
  return [
    runtimeFile(HOST_PATHS.library, libraryScript([...helperClosure(steps), ...reportHook(plan)])),
    runner,
    runnerUnit,
    ...(plan.firewallMode === 'open-required-ports' ? [firewallUnit] : []),
  ];
}

/** The runtime a baked image carries. */
export interface ImageRuntime {
  files: readonly HostFile[];
  /** Steps whose files the image has: a baked host's user-data leaves them out. */
  steps: readonly Step[];
  /** sha256 over the files, recorded in the image's provenance. */
  digest: string;
}

/** Every helper any step uses: the image's library serves whatever the host's steps need. */
const ALL_HELPERS = helperClosure([{ helpers: [APT_GET, APT_SOURCE, PICK_VERSION, RETRY, WAIT_FOR] }]);

/** What identifies a runtime: sha256 over its files' paths, modes and contents. */
const digestOf = (files: readonly HostFile[]): string => {
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.path}\0${f.mode}\0${f.content}\0`);
  return hash.digest('hex');
};

let cached: { key: string; runtime: ImageRuntime } | undefined;

/** The runtime a baked image carries (the same for every plan with the same firewall mode and reporting). */
export function imageRuntime(plan: ClusterPlan): ImageRuntime {
  const key = `${plan.firewallMode}:${plan.delivery.server ? 'report' : ''}`;
  if (cached?.key === key) return cached.runtime;
  // Steps that read what differs from files of the host's own (the ruleset, resolv.conf,
  // cluster.env and kubeadm.yaml): the same on every host, so the image carries them.
  const steps = [ADDRESS_STEP, RESOLVER_STEP, ...(plan.firewallMode === 'open-required-ports' ? [firewallStep(plan)] : []), workerJoinStep(plan)];
  const files = [runtimeFile(HOST_PATHS.library, libraryScript([...ALL_HELPERS, ...reportHook(plan)])), runner, runnerUnit, firewallUnit, ...steps.map(stepFile)];
  const runtime = { files, steps, digest: digestOf(files) };
  cached = { key, runtime };
  return runtime;
}

/** Whether the image's runtime already has this exact step file. */
export const imageHasStep = (runtime: ImageRuntime, step: Step): boolean =>
  runtime.steps.some((s) => s.name === step.name && hostScript(s) === hostScript(step));

/** The image's provisioner that installs the runtime: each file from a quoted heredoc. */
export function runtimeInstallStep(runtime: ImageRuntime): Step {
  const dirs = [...new Set(runtime.files.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))))];
  const writes = runtime.files.map((f) => {
    const end = 'EOF_KUBEBAKE_RUNTIME';
    if (f.content.split('\n').includes(end)) throw new Error(`${f.path} contains the heredoc delimiter`);
    return `cat > ${f.path} <<'${end}'\n${f.content}${end}\nchmod ${f.mode} ${f.path}`;
  });
  return {
    name: 'runtime',
    purpose: `Installs the kubebake runtime (runner, helpers, shared steps; digest ${runtime.digest.slice(0, 12)}) that baked hosts run.`,
    helpers: [],
    body: `install -d -m 0755 ${dirs.join(' ')}\n${writes.join('\n')}`,
  };
}
