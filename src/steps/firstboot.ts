import type { Step } from './step.js';
import { script, SCRIPT_DIR, STATE_DIR } from './shell.js';

export const FIRSTBOOT_PATH = `${SCRIPT_DIR}/firstboot.sh`;
export const STATUS_PATH = `${STATE_DIR}/status`;
export const LOG_PATH = '/var/log/kubebake/firstboot.log';

/**
 * Runs a host's steps in order, once. Writes ${STATUS_PATH}: `running: <step>`, then `ok`, or
 * `failed: <step>: <reason>` so an operator sees why a node did not join, not just that it did
 * not. Safe to run again (e.g. by hand after fixing the cause): finished hosts exit at once, and
 * every step is itself idempotent.
 */
export function renderFirstboot(steps: readonly Step[]): string {
  return script(
    'First boot of this host: runs the kubebake steps in order and records the outcome.',
    `readonly STATUS=${STATUS_PATH} LOG=${LOG_PATH}
install -d -m 0755 ${STATE_DIR}
install -d -m 0700 "$(dirname "$LOG")"
status() { printf '%s\\n' "$1" > "$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS"; }
if [ "$(cat "$STATUS" 2>/dev/null)" = ok ]; then
  echo "kubebake: already done (see $LOG)"
  exit 0
fi
for step in ${steps.map((s) => s.name).join(' ')}; do
  status "running: $step"
  echo "=== kubebake step $step ($(date -u +%FT%TZ))" >> "$LOG"
  if ! bash "${SCRIPT_DIR}/$step.sh" >> "$LOG" 2>&1; then
    reason=$(grep -v '^[[:space:]]*$' "$LOG" | tail -n 1 | tr -cd '[:print:]' | cut -c1-200)
    status "failed: $step: \${reason:-no output}"
    echo "kubebake: step $step failed: \${reason:-no output} (full log: $LOG)" >&2
    exit 1
  fi
done
status ok
echo "kubebake: all steps done"`,
  );
}
