# shellcheck shell=bash
# shellcheck disable=SC2154 # $rc is assigned inside the EXIT trap's string, which shellcheck 0.9 does not count
# The progress-report hook, last in a host's helper library when its topology names
# delivery.server (steps/report.ts). The runner (firstboot.sh) sources the library before every
# step with the step's name as $0: the hook reports the step's start and, from an EXIT trap, its
# end or its failure with the last log lines. So the runner is the same for every host and image.
#
# report EVENT [STEP] [RC]: one small POST (HTTP/1.0, text lines key=value, then `log:` and the
# last @@LOG_LINES@@ log lines of at most @@LINE_CHARS@@ characters on a failure), as
# `kubebake serve` reads it (serve/report-body.ts). bash's /dev/tcp, not curl: curl is not on a
# minimal image before the install steps run. Never blocks or fails the boot: at most 3 s (an
# unreachable server's connect would otherwise wait out TCP's retries), in a subshell without -e,
# every error ignored. Only printable ASCII is sent, so the length in characters is the length in
# bytes. @@CONF@@ (0600, the host's own key) sets REPORT_ADDR, REPORT_PORT, REPORT_PATH and
# REPORT_KEY. @@BOOTED@@ is on a tmpfs: each boot reports "boot" once.
# Placeholders are paths from plan/host-paths.ts and the limits in steps/report.ts.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

report() {
  (
    set +euo pipefail
    . @@CONF@@ || exit
    b=$(printf 'event=%s\nstep=%s\nrc=%s\n' "$1" "${2:-}" "${3:-}"
      [ "$1" != fail ] || { echo log:; grep -v '^[[:space:]]*$' @@LOG@@ | tail -n @@LOG_LINES@@ | cut -c1-@@LINE_CHARS@@; })
    b=$(LC_ALL=C tr -cd '\11\12\40-\176' <<<"$b")
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "POST %s HTTP/1.0\r\nAuthorization: Bearer %s\r\nContent-Type: text/plain\r\nContent-Length: %s\r\n\r\n%s" "$3" "$4" "${#5}" "$5" >&3 && head -c 9 <&3' - \
      "$REPORT_ADDR" "$REPORT_PORT" "$REPORT_PATH" "$REPORT_KEY" "$b"
  ) >/dev/null 2>&1 || true
}
if [ -r @@CONF@@ ] && grep -qxF -- "$0" @@STEP_LIST@@ 2>/dev/null; then
  [ -e @@BOOTED@@ ] || { report boot; : > @@BOOTED@@; }
  report start "$0"
  trap 'rc=$?; if [ $rc = 0 ]; then report end "$0"; else report fail "$0" $rc; fi; exit $rc' EXIT
fi
