#!/bin/bash
# Removes the etcd member of a control plane that left the cluster, from another control plane
# (run as root over SSH by `kubebake node remove|replace`, src/remote/ssh.ts): the member whose
# peer URL is $1 (kubeadm's is https://<advertise address>:2380), if it is still there.
# etcdctl runs inside this control plane's etcd container, which ships it (kubernetes/kubernetes
# cluster/images/etcd/Dockerfile), reached with crictl exec on the CRI socket $2 (kubernetes-sigs/cri-tools
# cmd/crictl/container.go: ps --name <regex> --state running -q lists container IDs; exec). It talks to the
# local member (https://127.0.0.1:2379) as a client with the etcd CA and the healthcheck-client
# certificate kubeadm made for talking to etcd; kubeadm runs etcd with --client-cert-auth and
# that CA as its trusted CA, and mounts /etc/kubernetes/pki/etcd into the container at the same
# path (cmd/kubeadm/app/phases/etcd/local.go GetEtcdPodSpec, getEtcdCommand).
# `member list` prints one member per line: "ID, status, name, peer URLs, client URLs, is learner",
# the URLs joined by "," (etcd-io/etcd etcdctl/ctlv3/command/printer.go makeMemberListTable,
# printer_simple.go MemberList).
# Output: "absent", or "removed <id>". Exit 4: no running etcd container here.
set -euo pipefail
peer=$1 cri=$2
pki=/etc/kubernetes/pki/etcd
cid=$(crictl --runtime-endpoint "$cri" ps --name '^etcd$' --state running -q | head -n 1)
if [ -z "$cid" ]; then
  echo "no running etcd container on $(hostname)" >&2
  exit 4
fi
etcdctl() {
  crictl --runtime-endpoint "$cri" exec "$cid" etcdctl --endpoints=https://127.0.0.1:2379 \
    --cacert="$pki/ca.crt" --cert="$pki/healthcheck-client.crt" --key="$pki/healthcheck-client.key" "$@"
}
members=$(etcdctl member list)
id=$(printf '%s\n' "$members" | awk -F', ' -v peer="$peer" '{ n = split($4, urls, ","); for (i = 1; i <= n; i++) if (urls[i] == peer) { print $1; exit } }')
if [ -z "$id" ]; then
  echo "absent"
  exit 0
fi
etcdctl member remove "$id" >&2
echo "removed $id"
