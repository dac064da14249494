# shellcheck shell=bash
# pick_version PACKAGE VERSION: the apt version of PACKAGE whose upstream version is VERSION, or
# with VERSION ending in "." (a minor, "1.37."), the repository's first of that minor; or nothing.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

pick_version() {
  apt-cache madison "$1" | awk -v want="$2" '{ v = $3 } v == want || index(v, want ~ /[.]$/ ? want : want "-") == 1 { print v; exit }'
}
