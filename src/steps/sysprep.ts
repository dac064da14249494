import type { ClusterPlan } from '../plan/plan.js';
import { q } from './shell.js';
import type { Step } from './step.js';

/** The user Packer logs in as while baking; it never survives into the image. */
export const BUILD_USER = 'packer';
/** Where cloud-init writes the sudo rules of the users it creates (the build user's among them). */
export const CLOUD_INIT_SUDOERS = '/etc/sudoers.d/90-cloud-init-users';

/**
 * The last provisioner: makes the image a template that clones boot from as new machines.
 * cloud-init forgets this instance (so it runs again, with the clone's seed), machine identity
 * (machine-id, SSH host keys, random seed) is dropped so no two clones share it, apt caches and
 * logs are emptied, and the build user loses its keys and password. The build user itself and
 * its sudo rule are removed last (sealCommand or sealStep), because Packer still needs them until
 * then; the SSH connection Packer already holds stays open meanwhile.
 */
export function sysprepStep(_plan: ClusterPlan): Step {
  const user = q(BUILD_USER);
  return {
    name: 'sysprep',
    purpose: 'Generalizes the image: no instance state, machine identity, caches, logs or build credentials.',
    helpers: [],
    body: `export DEBIAN_FRONTEND=noninteractive
# cloud-init runs again on the first boot of every clone, from that clone's seed.
cloud-init clean --logs --seed

# Machine identity: regenerated on first boot (an empty machine-id marks a first boot).
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id
rm -f /etc/ssh/ssh_host_*
rm -f /var/lib/systemd/random-seed

# Package caches and lists (first boot of a baked image installs nothing).
apt-get clean
rm -rf /var/lib/apt/lists/*

# Build credentials: keys of the build user and the key cloud-init copied to root.
rm -f /root/.ssh/authorized_keys
home=$(getent passwd ${user} | cut -d: -f6 || true)
if [ -n "$home" ]; then
  rm -f "$home/.ssh/authorized_keys" "$home/.bash_history"
fi
if getent passwd ${user} >/dev/null; then
  passwd -l ${user} >/dev/null
fi
rm -f /root/.bash_history

# Logs: rotated files removed, live ones emptied, the journal vacuumed.
find /var/log -type f \\( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \\) -delete
find /var/log -type f -exec truncate -s 0 {} +
journalctl --rotate >/dev/null 2>&1 || true
journalctl --vacuum-time=1s >/dev/null 2>&1 || true

sync`,
  };
}

/** Removes the build user and its sudo rule; run as root, after sysprep. */
const REMOVE_BUILD_USER = `userdel --force --remove ${BUILD_USER} && rm -f ${CLOUD_INIT_SUDOERS}`;

/**
 * Packer's shutdown_command, where the builder has one (qemu, vsphere-clone): removes the build
 * user and its sudo rule as root (so it does not matter that the rule goes), then powers off.
 * Chained with && so that when the user cannot be removed the machine does not power off and
 * Packer's shutdown timeout fails the build, rather than an image with a build user in it.
 */
export function sealCommand(): string {
  return `sudo -n sh -c ${q(`${REMOVE_BUILD_USER} && sync && shutdown -P now`)}`;
}

/**
 * The same removal as a last provisioner, for builders that shut the machine down themselves
 * through their API and have no shutdown_command (proxmox-clone). The script deletes itself:
 * Packer cannot clean it up once the user it logs in as is gone (skip_clean).
 */
export function sealStep(_plan: ClusterPlan): Step {
  return {
    name: 'seal',
    purpose: `Removes the build user ${BUILD_USER} and its sudo rule; the builder then shuts the machine down.`,
    helpers: [],
    body: `${REMOVE_BUILD_USER}
rm -f -- "$0"
sync`,
  };
}

/**
 * A cloud image's first boot keeps cloud-init busy (growpart, SSH keys, apt sources) after SSH
 * is up; provisioning waits for it so the image steps start on a settled machine.
 */
export const WAIT_FOR_CLOUD_INIT: Step = {
  name: 'cloud-init-wait',
  purpose: "Waits until cloud-init has finished the build machine's first boot.",
  helpers: [],
  body: `# rc 2 (degraded: recoverable warnings, e.g. from a datasource) is not a reason to stop.
rc=0
cloud-init status --wait >/dev/null || rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; then
  cloud-init status --long >&2 || true
  echo "cloud-init failed on the build machine (rc $rc)" >&2
  exit 1
fi
echo "cloud-init finished"`,
};
