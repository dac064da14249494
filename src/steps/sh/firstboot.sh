# shellcheck shell=bash
# The first-boot runner: runs the host's steps (listed in @@STEP_LIST@@) in order, each in a
# strict bash of its own after the helper library (@@LIBRARY@@, which it sources with the step's
# name as $0: the report hook, report.sh, reads it). Writes the status file: `running: <step>`,
# then `ok`, or `failed: <step>: <reason>` (the step's last line of output) so an operator sees
# why a node did not join, not just that it did not. Each finished step is recorded in
# @@STEPS_DONE@@, so a run after a reboot or a power loss resumes with the first step not yet done
# (every step is also idempotent on its own). The same for every host, so a baked image carries it.
# kubebake ships it as HOST_PATHS.firstboot after a strict header (#!/bin/bash, its purpose,
# set -euo pipefail: steps/scripts.ts), run by the unit config/firstboot-unit.ts renders.
# Placeholders are paths from plan/host-paths.ts.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

readonly STATUS=@@STATUS@@ DONE=@@STEPS_DONE@@ LOG=@@LOG@@
install -d -m 0755 @@STATE_DIR@@
install -d -m 0700 "$(dirname "$LOG")"
status() { printf '%s\n' "$1" > "$STATUS.tmp" && mv "$STATUS.tmp" "$STATUS"; }
if [ "$(cat "$STATUS" 2>/dev/null)" = ok ]; then echo "kubebake: already done (see $LOG)"; exit 0; fi
while read -r step; do
  grep -qxF "$step" "$DONE" 2>/dev/null && continue
  status "running: $step"
  echo "=== $step $(date -u +%FT%TZ)" >> "$LOG"
  if ! bash -euo pipefail -c '. "$1"; . "$2"' "$step" @@LIBRARY@@ "@@SCRIPT_DIR@@/$step.sh" >> "$LOG" 2>&1 < /dev/null; then
    reason=$(grep -v '^[[:space:]]*$' "$LOG" | tail -n 1 | tr -cd '[:print:]' | cut -c1-200)
    status "failed: $step: ${reason:-no output}"
    echo "kubebake: step $step failed: ${reason:-no output} (see $LOG)" >&2
    exit 1
  fi
  echo "$step" >> "$DONE"
done < @@STEP_LIST@@
status ok
echo "kubebake: all steps done"
