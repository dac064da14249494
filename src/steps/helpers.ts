// Shell functions shared by steps. Each is defined once per host (in the library file every step
// sources) and once per standalone Packer script that uses it.
import type { ShellHelper } from './step.js';

const helper = (name: string, code: string, uses: ShellHelper[] = []): ShellHelper => ({ name, code: code.trim(), uses });

/**
 * apt_problem OUTPUT: what an operator can act on, from apt-get's own messages (as apt 2.x prints
 * them): a name that does not resolve, a mirror that cannot be reached, a package or version the
 * repository does not have, a held package in the way, a repository whose signature no configured
 * key verifies. Empty when none is recognised.
 */
export const APT_PROBLEM = helper(
  'apt_problem',
  `
apt_problem() {
  local m
  if m=$(grep -oPm1 "(Temporary failure resolving|Could not resolve( host:)?) '?\\K[^' ]+" <<<"$1"); then
    echo "DNS failure: cannot resolve \${m%%$'\\n'*} (check network.dns and the host's resolver)"
  elif m=$(grep -oEm1 "^E: (Unable to locate package .*|Package '[^']+' has no installation candidate|Version '[^']+' for '[^']+' was not found)" <<<"$1"); then
    echo "package missing from the repository: \${m#E: }"
  elif grep -q "^E: Held packages were changed" <<<"$1"; then echo "a held package is in the way (apt-mark showhold)"
  elif m=$(grep -oPm1 "^E: The repository '\\K[^']+(?=' is not signed)" <<<"$1"); then
    echo "repository signature not trusted: $m (check its signing key, mirrors.*.key in the topology)"
  elif m=$(grep -oPm1 "(Failed to fetch|Could not connect to|Unable to connect to) \\K[^ ]+" <<<"$1"); then
    echo "mirror unreachable: \${m%%$'\\n'*} (check the network, proxy and mirror)"
  fi
}`,
);

/**
 * apt that waits for the lock (cloud-init and unattended-upgrades hold it at first boot), retries
 * what a retry can fix, and says why it gave up. apt's own retries are off (apt 2.6 defaults to
 * 3): with an unreachable DNS server each of them waits out the resolver's timeouts again, and
 * this loop already retries with a back-off. \`apt-get update\` reports unreachable mirrors as
 * warnings and still exits 0: that counts as a failure here.
 */
export const APT_GET = helper(
  'apt_get',
  `
export DEBIAN_FRONTEND=noninteractive
apt_get() {
  local i out rc why
  for i in 1 2 3 4 5; do
    out=$(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=0 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y "$@" 2>&1) && rc=0 || rc=$?
    printf '%s\\n' "$out"
    why=$(apt_problem "$out")
    # update exits 0 when a mirror failed: its message counts
    if [ "$rc" = 0 ] && { [ "$1" != update ] || [ -z "$why" ]; }; then return 0; fi
    case $why in "package missing"* | "a held"* | "repository signature"*) break ;; esac
    [ "$i" = 5 ] || { echo "apt-get $* failed (attempt $i of 5\${why:+: $why}), retrying" >&2; sleep $((i * 10)); }
  done
  echo "apt-get $* failed: \${why:-see the messages above}" >&2
  return 1
}`,
  [APT_PROBLEM],
);

/** apt_source NAME URL: an apt source signed by its own keyring (never apt-key, which is gone). */
export const APT_SOURCE = helper(
  'apt_source',
  `
apt_source() {
  local keyring=/etc/apt/keyrings/$1-apt-keyring.gpg
  curl -fsSL --retry 5 --retry-delay 5 "$2"Release.key | gpg --batch --yes --dearmor -o "$keyring"
  chmod 0644 "$keyring"
  echo "deb [signed-by=$keyring] $2 /" > "/etc/apt/sources.list.d/$1.list"
}`,
);

/**
 * pick_version PACKAGE VERSION: the apt version of PACKAGE whose upstream version is VERSION, or
 * with VERSION ending in "." (a minor, "1.37."), the repository's first of that minor; or nothing.
 */
export const PICK_VERSION = helper(
  'pick_version',
  `
pick_version() {
  apt-cache madison "$1" | awk -v want="$2" '{ v = $3 } v == want || index(v, want ~ /[.]$/ ? want : want "-") == 1 { print v; exit }'
}`,
);

/** retry CMD...: up to 10 tries, 5 s more between each; for calls to a cluster still settling. */
export const RETRY = helper(
  'retry',
  `
retry() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "$@" && return 0
    echo "retrying ($i): $*" >&2
    sleep $((i * 5))
  done
  return 1
}`,
);

/** wait_for BUDGET WHAT CMD...: retries CMD with backoff (2 s doubling to 30 s) within BUDGET seconds. */
export const WAIT_FOR = helper(
  'wait_for',
  `
wait_for() {
  local budget=$1 what=$2 start=$SECONDS delay=2
  shift 2
  until "$@"; do
    (( SECONDS - start < budget )) || { echo "timed out after \${budget}s waiting for $what" >&2; return 1; }
    sleep "$delay"
    delay=$(( delay * 2 < 30 ? delay * 2 : 30 ))
  done
}`,
);
