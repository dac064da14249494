// The few values that make one host's text differ from its peers': what slot templates fill in.
import type { NodePlan } from '../plan/plan.js';

export interface NodeSlots {
  /** Everything about the node but its slot values: hosts with equal keys render alike. */
  key: string;
  /** name, ip, mac, fqdn (empty when absent). */
  values: string[];
}

const cache = new WeakMap<NodePlan, NodeSlots>();
/** Labels, taints and firewall rules are often one object shared by many nodes: serialised once. */
const json = new WeakMap<object, string>();
const jsonOf = (v: unknown): string => {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v) ?? 'null';
  let s = json.get(v);
  if (s === undefined) json.set(v, (s = JSON.stringify(v)));
  return s;
};

/** Fields that are slot values (or, like a worker's ordinal, change nothing it gets). */
const SLOT_FIELDS = new Set(['name', 'ip', 'mac', 'fqdn', 'index', 'ordinal']);

export function nodeSlots(node: NodePlan): NodeSlots {
  let s = cache.get(node);
  if (!s) {
    // A worker's place among the workers changes nothing it gets; a control plane's and a load
    // balancer's does (join order, keepalived priority). Whether it has a MAC or an FQDN does.
    let key = `place=${node.role === 'worker' ? '-' : node.ordinal};mac=${node.mac !== undefined};fqdn=${node.fqdn !== undefined}`;
    for (const k in node) if (!SLOT_FIELDS.has(k)) key += `;${k}=${jsonOf(node[k as keyof NodePlan])}`;
    s = { key, values: [node.name, node.ip, node.mac ?? '', node.fqdn ?? ''] };
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
