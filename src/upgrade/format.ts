// The upgrade plan as an operator reads it in a terminal (and the JSON --json prints).
import type { UpgradePlan } from './plan.js';

const arrow = (from: string | undefined, to: string): string => (from && from !== to ? `${from} → ${to}` : `${to} (unchanged)`);

export function formatUpgradePlan(p: UpgradePlan, file: string): string {
  const out: string[] = [`Upgrade plan for cluster ${p.cluster}: Kubernetes ${p.from} → ${p.to}`];
  if (p.upToDate) {
    out.push('', `Every node runs v${p.to} already: nothing to do.`);
    return `${out.join('\n')}\n`;
  }
  const width = Math.max(...p.nodes.map((n) => n.name.length));
  out.push('', 'Order (one node at a time: cordon, drain through the Eviction API, upgrade step, wait until Ready at the new version, uncordon):');
  p.nodes.forEach((n, i) => {
    const what = n.done ? `done (kubelet v${p.to})` : n.kubeadm === 'apply' ? `kubeadm upgrade apply v${p.to}${p.cni.changes ? `, then ${p.cni.plugin} ${p.cni.to}` : ''}` : 'kubeadm upgrade node';
    out.push(`  ${String(i + 1).padStart(2)}. ${n.name.padEnd(width)}  ${n.role.padEnd(13)}  kubelet ${n.kubelet ? `v${n.kubelet}` : '?'}  ${what}`);
  });
  out.push('', 'Each node switches its package repositories and installs (apt-mark hold keeps them there):');
  for (const r of p.repositories) out.push(`  repository ${r.name.padEnd(10)} ${r.from ? `${r.from} → ${r.to}` : `${r.to} (unchanged)`}`);
  for (const k of p.packages) out.push(`  ${k.name.padEnd(14)} ${arrow(k.from, k.to)}${k.held ? ', held' : ''}`);
  out.push('', `CNI: ${p.cni.plugin} ${arrow(p.cni.from, p.cni.to)}${p.cni.changes ? ' (the first control plane upgrades it after kubeadm upgrade apply)' : ''}`);
  out.push('', 'Mirror first (what the target needs that the running version did not; `kubebake manifest` lists everything):');
  const m = p.mirror;
  if (!m.packages.length && !m.images.length && !m.files.length) out.push('  nothing new');
  for (const k of m.packages) out.push(`  package ${k.name} ${k.version} (${k.repository})`);
  for (const i of m.images) out.push(`  image   ${i}`);
  for (const f of m.files) out.push(`  file    ${f.upstream}`);
  out.push(`  air gap: kubebake bundle -f ${file} -o DIR  (the bundle of the target version; fill the mirror from it before applying)`);
  if (p.refusals.length) {
    out.push('', `Refused (${p.refusals.length}):`);
    for (const r of p.refusals) out.push(`  error[${r.code}]: ${r.message}`, ...(r.hint ? [`    = hint: ${r.hint}`] : []));
  } else {
    out.push('', `next: kubebake upgrade apply -f ${file}   (--dry-run prints every action first)`);
  }
  return `${out.join('\n')}\n`;
}
