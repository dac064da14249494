import { aptKeyring, aptSourceList } from '../plan/host-paths.js';
import type { ClusterPlan } from '../plan/plan.js';
import { APT_GET, APT_SOURCE, PICK_VERSION } from './helpers.js';
import { heredoc, q } from './shell.js';
import type { Step } from './step.js';

/** What an apt source NAME leaves on a host: its list and its keyring (fetched: .gpg, inline: .asc). */
export const aptSourceFiles = (name: string): string[] => [aptSourceList(name), aptKeyring(name, 'gpg'), aptKeyring(name, 'asc')];

/**
 * Adds an apt source signed by its own keyring: the key the topology gives for a mirror
 * (mirrors.*.key), written as an armored keyring, or else <repo>Release.key fetched by apt_source
 * (the step lists APT_SOURCE among its helpers).
 */
export function aptSource(name: string, repo: string, key?: string): string {
  if (!key) return `apt_source ${q(name)} ${q(repo)}`;
  const keyring = aptKeyring(name, 'asc');
  return `${heredoc(`cat > ${q(keyring)}`, key.trimEnd(), 'EOF_KEY')}
chmod 0644 ${q(keyring)}
echo ${q(`deb [signed-by=${keyring}] ${repo} /`)} > ${q(aptSourceList(name))}`;
}

/** CRI-O from isv:cri-o for the Kubernetes minor; its cgroup manager is systemd, like kubelet's. */
export function crioStep(plan: ClusterPlan): Step {
  const install = plan.crio.version
    ? `v=$(pick_version cri-o ${q(plan.crio.version)})
[ -n "$v" ] || { echo "CRI-O ${plan.crio.version} is not in ${plan.crio.aptRepo}" >&2; exit 1; }
apt_get install --allow-change-held-packages "cri-o=$v"`
    : `apt_get install cri-o`;
  return {
    name: 'crio',
    purpose: `CRI-O ${plan.crio.version ?? plan.crio.minor} from ${plan.mirrors?.crio ? 'its mirror' : 'isv:cri-o'}.`,
    helpers: [APT_GET, ...(plan.crio.aptKey ? [] : [APT_SOURCE]), ...(plan.crio.version ? [PICK_VERSION] : [])],
    body: `${aptSource('cri-o', plan.crio.aptRepo, plan.crio.aptKey)}
apt_get update
${install}
# held: an unattended upgrade must not move the runtime under kubelet
apt-mark hold cri-o
systemctl enable --now crio`,
  };
}
