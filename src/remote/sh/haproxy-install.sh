#!/bin/bash
# Puts a new haproxy.cfg (read from standard input) in place on a kubebake load balancer and
# reloads HAProxy without dropping a connection. Run as root over SSH by `kubebake lb update`
# and `kubebake node remove` (src/remote/ssh.ts: bash -c "<this file>" kubebake-lb STAGED).
# - The new file is checked with `haproxy -c` before anything changes: a configuration HAProxy
#   refuses never lands (exit 3, HAProxy's words on stderr).
# - It replaces /etc/haproxy/haproxy.cfg by a rename (no half-written file is ever read), and the
#   copy first boot staged ($1, the load-balancer-config step installs it), so a rerun of that
#   step installs the same file.
# - `systemctl reload-or-restart haproxy`: the haproxy.service of Debian and Ubuntu runs HAProxy in
#   master-worker mode (-Ws) and reloads it with `haproxy -c` then `kill -USR2 $MAINPID`; the
#   master re-executes itself with -sf and the workers' PIDs, new workers take the listening
#   sockets, the old ones stop accepting and finish the connections they hold (haproxy
#   doc/management.txt, section 4 "Stopping and restarting HAProxy", options -W and -sf). A
#   HAProxy that is not running is started.
set -euo pipefail
staged=$1
live=/etc/haproxy/haproxy.cfg
new=$(mktemp "$live.kubebake-XXXXXX")
trap 'rm -f "$new"' EXIT
cat > "$new"
if ! out=$(haproxy -c -f "$new" 2>&1); then
  printf '%s\n' "$out" >&2
  exit 3
fi
chmod 0644 "$new"
if [ -d "$(dirname "$staged")" ]; then install -m 0644 "$new" "$staged"; fi
if cmp -s "$new" "$live"; then
  echo "unchanged"
  exit 0
fi
mv -f "$new" "$live"
systemctl reload-or-restart haproxy
echo "reloaded"
