import { HOST_PATHS } from '../plan/host-paths.js';
import type { Step } from './step.js';

const { status: STATUS_PATH, stepsDone: DONE_PATH, stepList, log: LOG_PATH, stateDir, scriptDir, library } = HOST_PATHS;

/**
 * The runner: runs the host's steps (listed in ${stepList}) in order, each in a strict bash of
 * its own after the helper library. Writes the status file: `running: <step>`, then `ok`, or
 * `failed: <step>: <reason>` so an operator sees why a node did not join, not just that it did
 * not. Each finished step is recorded, so a run after a reboot or a power loss resumes with the
 * first step not yet done (every step is also idempotent on its own). The same for every host,
 * so a baked image carries it.
 */
export const RUNNER: Step = {
  name: 'firstboot',
  purpose: 'First boot: runs the kubebake steps in order, resumes after the last one done, records the outcome.',
  helpers: [],
  body: `readonly STATUS=${STATUS_PATH} DONE=${DONE_PATH} LOG=${LOG_PATH}
install -d -m 0755 ${stateDir}
install -d -m 0700 "$(dirname "$LOG")"
status() { printf '%s\\n' "$1" > "$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS"; }
if [ "$(cat "$STATUS" 2>/dev/null)" = ok ]; then echo "kubebake: already done (see $LOG)"; exit 0; fi
while read -r step; do
  grep -qxF "$step" "$DONE" 2>/dev/null && continue
  status "running: $step"
  echo "=== $step $(date -u +%FT%TZ)" >> "$LOG"
  if ! bash -euo pipefail -c '. "$1"; . "$2"' "$step" ${library} "${scriptDir}/$step.sh" >> "$LOG" 2>&1 < /dev/null; then
    reason=$(grep -v '^[[:space:]]*$' "$LOG" | tail -n 1 | tr -cd '[:print:]' | cut -c1-200)
    status "failed: $step: \${reason:-no output}"
    echo "kubebake: step $step failed: \${reason:-no output} (see $LOG)" >&2
    exit 1
  fi
  echo "$step" >> "$DONE"
done < ${stepList}
status ok
echo "kubebake: all steps done"`,
};
