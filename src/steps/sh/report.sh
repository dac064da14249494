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
# unreachable server's connect would otherwise wait out TCP's retries; a watchdog kills the
# sender), in a subshell without -e, every error ignored. Only printable ASCII is sent, so the
# length in characters is the length in bytes. @@CONF@@ (0600, the host's own key) sets
# REPORT_ADDR, REPORT_PORT, REPORT_PATH and REPORT_KEY. @@BOOTED@@ is on a tmpfs: each boot
# reports "boot" once.
#
# Signed, not a bearer key (serve/signature.ts): Kubebake-Signature is HMAC-SHA256 (RFC 2104:
# H((K^opad) || H((K^ipad) || m)), 64-byte blocks) under the key's 32 bytes of
# "POST\n<path>\n<unix time>\n<nonce>\n<body>", computed with bash and coreutils' sha256sum
# alone (openssl is not on every minimal image). The key and the body stay inside this bash:
# printf is a builtin and the pipes feed forked subshells, so no program is ever exec'd with
# either in its argv (ps shows argv to every user). A 401 carrying Kubebake-Time means this
# host's clock is off (not synchronised yet): it signs once more with the server's time.
# Placeholders are paths from plan/host-paths.ts and the limits in steps/report.ts.
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

report_hmac() {
  local key=$1 i x ipad='' opad='' inner hex=''
  while [ ${#key} -lt 128 ]; do key+=0; done
  for ((i = 0; i < 128; i += 2)); do
    printf -v x '\\x%02x' $((16#${key:i:2} ^ 0x36)); ipad+=$x
    printf -v x '\\x%02x' $((16#${key:i:2} ^ 0x5c)); opad+=$x
  done
  inner=$({ printf '%b' "$ipad"; printf '%s' "$2"; } | sha256sum)
  for ((i = 0; i < 64; i += 2)); do hex+="\\x${inner:i:2}"; done
  x=$({ printf '%b' "$opad"; printf '%b' "$hex"; } | sha256sum)
  printf '%s' "${x%% *}"
}
report_send() { # sets report_t to the server's time when it refused ours
  local t=$1 nonce sig m line
  report_t=''
  nonce=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  printf -v m 'POST\n%s\n%s\n%s\n%s' "$REPORT_PATH" "$t" "$nonce" "$b"
  sig=$(report_hmac "$REPORT_KEY" "$m")
  exec 3<>"/dev/tcp/$REPORT_ADDR/$REPORT_PORT" || return
  printf 'POST %s HTTP/1.0\r\nHost: %s:%s\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nKubebake-Time: %s\r\nKubebake-Nonce: %s\r\nKubebake-Signature: %s\r\n\r\n%s' \
    "$REPORT_PATH" "$REPORT_ADDR" "$REPORT_PORT" "${#b}" "$t" "$nonce" "$sig" "$b" >&3 || return
  IFS= read -r line <&3 || return
  case $line in 'HTTP/1.'?' 401 '*) ;; *) return ;; esac
  while IFS= read -r line <&3 && [ "${line%$'\r'}" ]; do
    line=${line%$'\r'}
    case ${line,,} in kubebake-time:*) line=${line#*:}; line=${line// /}; [[ $line =~ ^[0-9]+$ ]] && report_t=$line ;; esac
  done
}
report() {
  (
    set +euo pipefail
    . @@CONF@@ || exit
    b=$(printf 'event=%s\nstep=%s\nrc=%s\n' "$1" "${2:-}" "${3:-}"
      [ "$1" != fail ] || { echo log:; grep -v '^[[:space:]]*$' @@LOG@@ | tail -n @@LOG_LINES@@ | cut -c1-@@LINE_CHARS@@; })
    b=$(LC_ALL=C tr -cd '\11\12\40-\176' <<<"$b")
    # In one background subshell (no deeper one lives long), so killing it ends the report.
    {
      printf -v t '%(%s)T' -1
      report_send "$t"
      [ -z "$report_t" ] || report_send "$report_t"
    } &
    p=$!
    { sleep 3; kill "$p"; } &
    w=$!
    wait "$p"
    kill "$w"
  ) >/dev/null 2>&1 || true
}
if [ -r @@CONF@@ ] && grep -qxF -- "$0" @@STEP_LIST@@ 2>/dev/null; then
  [ -e @@BOOTED@@ ] || { report boot; : > @@BOOTED@@; }
  report start "$0"
  trap 'rc=$?; if [ $rc = 0 ]; then report end "$0"; else report fail "$0" $rc; fi; exit $rc' EXIT
fi
