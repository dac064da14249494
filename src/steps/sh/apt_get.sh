# shellcheck shell=bash
# apt_get ARGS...: apt-get that waits for the lock (cloud-init and unattended-upgrades hold it at
# first boot), retries what a retry can fix, and says why it gave up (apt_problem.sh, which a host
# gets with it). apt's own retries are off (apt 2.6 defaults to 3): with an unreachable DNS server
# each of them waits out the resolver's timeouts again, and this loop already retries with a
# back-off. `apt-get update` reports unreachable mirrors as warnings and still exits 0: that counts
# as a failure here.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

export DEBIAN_FRONTEND=noninteractive
apt_get() {
  local i out rc why
  for i in 1 2 3 4 5; do
    out=$(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y "$@" 2>&1) && rc=0 || rc=$?
    printf '%s\n' "$out"
    why=$(apt_problem "$out")
    # update exits 0 when a mirror failed: its message counts
    if [ "$rc" = 0 ] && { [ "$1" != update ] || [ -z "$why" ]; }; then return 0; fi
    case $why in "package missing"* | "a held"* | "repository signature"*) break ;; esac
    [ "$i" = 5 ] || { echo "apt-get $* failed (attempt $i of 5${why:+: $why}), retrying" >&2; sleep $((i * 10)); }
  done
  echo "apt-get $* failed: ${why:-see the messages above}" >&2
  return 1
}
