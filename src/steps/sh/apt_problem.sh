# shellcheck shell=bash
# apt_problem OUTPUT: what an operator can act on, from apt-get's own messages (as apt 2.x prints
# them): a name that does not resolve, a mirror that cannot be reached, a package or version the
# repository does not have, a held package in the way, a repository whose signature no configured
# key verifies. Prints nothing when none is recognised. apt_get (apt_get.sh) gives up at once on
# the problems a retry cannot fix, by the start of this line.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

apt_problem() {
  local m
  if m=$(grep -oPm1 "(Temporary failure resolving|Could not resolve( host:)?) '?\K[^' ]+" <<<"$1"); then
    echo "DNS failure: cannot resolve ${m%%$'\n'*} (check network.dns and the host's resolver)"
  elif m=$(grep -oEm1 "^E: (Unable to locate package .*|Package '[^']+' has no installation candidate|Version '[^']+' for '[^']+' was not found)" <<<"$1"); then
    echo "package missing from the repository: ${m#E: }"
  elif grep -q "^E: Held packages were changed" <<<"$1"; then echo "a held package is in the way (apt-mark showhold)"
  elif m=$(grep -oPm1 "^E: The repository '\K[^']+(?=' is not signed)" <<<"$1"); then
    echo "repository signature not trusted: $m (check its signing key, mirrors.*.key in the topology)"
  elif m=$(grep -oPm1 "(Failed to fetch|Could not connect to|Unable to connect to) \K[^ ]+" <<<"$1"); then
    echo "mirror unreachable: ${m%%$'\n'*} (check the network, proxy and mirror)"
  fi
}
