// Node labels: which ones kubelet may set on its own Node, and which must be applied by an admin.

/**
 * kubernetes.io / k8s.io labels are reserved, except the node.* and kubelet.* namespaces: the
 * NodeRestriction admission plugin refuses the others when kubelet tries to set them.
 */
export function isRestrictedLabel(key: string): boolean {
  const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
  const reserved = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
  const allowed = /(^|\.)(node|kubelet)\.kubernetes\.io$/.test(prefix);
  return reserved && !allowed;
}

/** Splits a node's labels into those kubelet sets itself and those applied from the first control plane. */
export function splitLabels(labels: Record<string, string>): { kubelet: Record<string, string>; admin: Record<string, string> } {
  const kubelet: Record<string, string> = {};
  const admin: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) (isRestrictedLabel(k) ? admin : kubelet)[k] = v;
  return { kubelet, admin };
}
