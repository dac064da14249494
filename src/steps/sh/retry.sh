# shellcheck shell=bash
# retry CMD...: up to 10 tries, 5 s more between each; for calls to a cluster still settling.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

retry() {
  local i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    "$@" && return 0
    echo "retrying ($i): $*" >&2
    sleep $((i * 5))
  done
  return 1
}
