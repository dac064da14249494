// Topology texts for day-2 tests: a profile with a host taken out (as an operator edits it before
// `kubebake node remove`), and the files tests write them to.
import { readFileSync } from 'node:fs';
import type { FakeWorkloads } from './fake-apiserver-workloads.js';
import { repoPath, topologyFrom } from './repo.js';

export const profileText = (name: string): string => readFileSync(repoPath('profiles', `${name}.yaml`), 'utf8');

/**
 * The topology text without host `name` (a one-line flow entry of hosts, as the profiles write
 * control planes); with two control planes left, the override the rules ask for is added.
 */
export function withoutHost(text: string, name: string): string {
  const line = new RegExp(`^  - \\{ name: ${name}, .*\\n`, 'm');
  if (!line.test(text)) throw new Error(`no one-line host ${name} in the topology`);
  const out = text.replace(line, '');
  const cps = (out.match(/role: control-plane/g) ?? []).length;
  return cps % 2 === 0 && !/^overrides:/m.test(out)
    ? `${out}overrides:\n  - { check: etcd-quorum, reason: "a control plane is being replaced" }\n`
    : out;
}

/**
 * The running cluster of a topology, as its API would list it: a Ready Node per control plane and
 * worker (InternalIP = its address), kubeadm's static pods on the control planes, kube-proxy on
 * every node, CoreDNS on the first worker.
 */
export function populate(w: FakeWorkloads, text: string): FakeWorkloads {
  for (const h of topologyFrom(text).hosts.filter((h) => h.role !== 'load-balancer')) {
    w.addNode({ name: h.name, address: h.ip, controlPlane: h.role === 'control-plane' });
    if (h.role === 'control-plane') w.addControlPlanePods(h.name);
    w.addPod({ namespace: 'kube-system', name: `kube-proxy-${h.name}`, node: h.name, owner: 'DaemonSet' });
  }
  const worker = topologyFrom(text).hosts.find((h) => h.role === 'worker');
  if (worker) w.addPod({ namespace: 'kube-system', name: 'coredns-7c-x1', node: worker.name, owner: 'ReplicaSet', labels: { 'k8s-app': 'kube-dns' } });
  return w;
}

/**
 * The default profile's cluster (or `text`'s) as its API lists it at `version` (kubeadm-config, each
 * Node's kubelet, the control planes' static pods with their images, kube-proxy everywhere), for
 * upgrade tests; `kubelets`: nodes whose kubelet runs another version.
 */
export function runningAt(w: FakeWorkloads, version: string, kubelets: Record<string, string> = {}, text = profileText('default')): FakeWorkloads {
  w.setClusterVersion(version);
  for (const h of topologyFrom(text).hosts.filter((h) => h.role !== 'load-balancer')) {
    const v = kubelets[h.name] ?? version;
    w.addNode({ name: h.name, address: h.ip, controlPlane: h.role === 'control-plane', kubeletVersion: `v${v}` });
    if (h.role === 'control-plane') w.addControlPlanePods(h.name, true, v);
    w.addPod({ namespace: 'kube-system', name: `kube-proxy-${h.name}`, node: h.name, owner: 'DaemonSet' });
  }
  return w;
}
