// What `kubebake upgrade apply` sends a node over SSH: one bash script on standard input (`sudo -n
// bash -s`: nothing but that stays in any command line) that puts the node's upgrade step in
// place and runs it through the host's own first-boot runner (steps/firstboot.ts). So the step
// runs as first boot's steps run: after the helper library (and its progress-report hook, with
// delivery.server), with `running: upgrade`, `ok` or `failed: upgrade: <reason>` in the status
// file and its output in the first-boot log; a reboot in the middle resumes it through the
// first-boot unit; and a second apply waits for a run an interrupted one left behind (flock).
import { HOST_PATHS, unitName } from '../plan/host-paths.js';
import { standaloneScript } from '../steps/scripts.js';
import type { Step } from '../steps/step.js';
import { UPGRADE_STEP, UPGRADE_STEP_PATH } from '../steps/upgrade.js';

const { status, stepsDone, stepList, firstboot, log, stateDir, scriptDir, firstbootUnit } = HOST_PATHS;

/** The wrapper's exit status when the node's first boot never finished (nothing is changed then). */
export const NOT_SET_UP = 3;
/** How many log lines a failure sends back. */
export const LOG_TAIL = 20;

const END = 'EOF_KUBEBAKE_UPGRADE_STEP';

/** The script a node runs for its upgrade (the argument of `sudo -n bash -s`, on standard input). */
export function remoteUpgradeScript(step: Step): string {
  const text = standaloneScript(step);
  if (text.split('\n').includes(END)) throw new Error('the upgrade step contains its own heredoc delimiter');
  return `set -euo pipefail
# kubebake upgrade apply: this node's upgrade step, run by the first-boot runner.
install -d -m 0755 ${stateDir} ${scriptDir}
exec 9>>${stateDir}/upgrade.lock
# A run an interrupted apply started (or the first-boot unit resumed after a reboot) finishes first.
flock 9
while systemctl is-active --quiet ${unitName(firstbootUnit)}; do sleep 5; done
s=$(cat ${status} 2>/dev/null || true)
case $s in
  ok | *": ${UPGRADE_STEP}"*) ;;
  *) echo "kubebake: this node's first boot has not finished (status: \${s:-none}); kubebake upgrades only nodes whose first boot is ok" >&2; exit ${NOT_SET_UP} ;;
esac
cat > ${UPGRADE_STEP_PATH}.tmp <<'${END}'
${text}${END}
chmod 0644 ${UPGRADE_STEP_PATH}.tmp
mv ${UPGRADE_STEP_PATH}.tmp ${UPGRADE_STEP_PATH}
grep -qxF ${UPGRADE_STEP} ${stepList} || echo ${UPGRADE_STEP} >> ${stepList}
if [ -e ${stepsDone} ]; then sed -i '/^${UPGRADE_STEP}$/d' ${stepsDone}; fi
printf 'pending: ${UPGRADE_STEP}\\n' > ${status}
rc=0
${firstboot} || rc=$?
# On failure, this run's last log lines (from the runner's "=== ${UPGRADE_STEP}" line on: never first boot's, whose kubeadm init printed a token).
if [ "$rc" != 0 ]; then awk '/^=== ${UPGRADE_STEP} /{n=0} {l[n++]=$0} END{for(i=(n>${LOG_TAIL}?n-${LOG_TAIL}:0);i<n;i++)print "  log: " l[i]}' ${log} >&2; fi
exit "$rc"
`;
}
