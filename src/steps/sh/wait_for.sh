# shellcheck shell=bash
# wait_for BUDGET WHAT CMD...: retries CMD with backoff (2 s doubling to 30 s) within BUDGET
# seconds; past it, says what it waited for and fails.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

wait_for() {
  local budget=$1 what=$2 start=$SECONDS delay=2
  shift 2
  until "$@"; do
    (( SECONDS - start < budget )) || { echo "timed out after ${budget}s waiting for $what" >&2; return 1; }
    sleep "$delay"
    delay=$(( delay * 2 < 30 ? delay * 2 : 30 ))
  done
}
