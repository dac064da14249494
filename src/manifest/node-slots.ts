// The few values that make one host's text differ from its peers': what slot templates fill in.
import type { NodePlan } from '../plan/plan.js';

export interface NodeSlots {
  /** Everything about the node but its slot values: hosts with equal keys render alike. */
  key: string;
  /** name, ip, mac, fqdn (empty when absent). */
  values: string[];
}

const cache = new WeakMap<NodePlan, NodeSlots>();

export function nodeSlots(node: NodePlan): NodeSlots {
  let s = cache.get(node);
  if (!s) {
    const { name, ip, mac, fqdn, index: _index, ordinal, ...rest } = node;
    // A worker's place among the workers changes nothing it gets; a control plane's and a load
    // balancer's does (join order, keepalived priority).
    const place = node.role === 'worker' ? undefined : ordinal;
    s = { key: JSON.stringify({ ...rest, place, mac: mac !== undefined, fqdn: fqdn !== undefined }), values: [name, ip, mac ?? '', fqdn ?? ''] };
    cache.set(node, s);
  }
  return s;
}

/** The node with its slot values replaced by `values` (placeholders, or another host's). */
export function withSlots(node: NodePlan, values: readonly string[]): NodePlan {
  const own = nodeSlots(node).values;
  // The node's own values: the node itself, so a direct rendering is exactly that.
  if (values.every((v, i) => v === own[i])) return node;
  const [name, ip, mac, fqdn] = values as [string, string, string, string];
  return { ...node, name, ip, mac: node.mac !== undefined ? mac : undefined, fqdn: node.fqdn !== undefined ? fqdn : undefined };
}
