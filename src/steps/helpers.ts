// Shell functions shared by steps. Each is defined once per host (in the library file every step
// sources) and once per standalone Packer script that uses it.
import type { ShellHelper } from './step.js';

const helper = (name: string, code: string, uses: ShellHelper[] = []): ShellHelper => ({ name, code: code.trim(), uses });

/** apt that waits for the lock (cloud-init and unattended-upgrades hold it at first boot) and retries mirrors. */
export const APT_GET = helper(
  'apt_get',
  `
export DEBIAN_FRONTEND=noninteractive
apt_get() {
  local i
  for i in 1 2 3 4 5; do
    if apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 \\
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold -y "$@"; then
      return 0
    fi
    echo "apt-get $* failed (attempt $i), retrying" >&2
    sleep $((i * 10))
  done
  return 1
}`,
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

/** The exact apt version of a package whose upstream version is $2, or nothing. */
export const PICK_VERSION = helper(
  'pick_version',
  `
pick_version() {
  apt-cache madison "$1" | awk -v want="$2" '{ v = $3 } v == want || index(v, want "-") == 1 { print v; exit }'
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
    if (( SECONDS - start >= budget )); then
      echo "timed out after \${budget}s waiting for $what" >&2
      return 1
    fi
    sleep "$delay"
    delay=$(( delay < 30 ? delay * 2 : 30 ))
  done
}`,
);
