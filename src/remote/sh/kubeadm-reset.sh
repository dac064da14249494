#!/bin/bash
# `kubeadm reset` on a node that leaves the cluster, run as root over SSH by `kubebake node
# remove|replace` (src/remote/ssh.ts). It is upstream's own undoing of init and join
# (kubernetes/kubernetes cmd/kubeadm/app/cmd/reset.go, phases preflight, remove-etcd-member,
# cleanup-node): on a control plane it removes the node's stacked etcd member from the etcd
# cluster (cmd/phases/reset/removeetcdmember.go) and empties its data directory; on every node
# it stops the kubelet, so the Node deleted afterwards is not registered again, and removes the
# static pod manifests, certificates and kubeconfigs. A failed member removal is only a warning
# there ("[reset] Failed to remove etcd member …"): kubebake checks the member list afterwards.
set -euo pipefail
if ! command -v kubeadm >/dev/null; then
  echo "kubeadm is not installed here: nothing to reset"
  exit 0
fi
kubeadm reset --force 2>&1
