// What a store's secrets belong to. A second site whose topology reuses a cluster name in the same
// output folder must not silently receive the first cluster's CA and token: the store records the
// identity it was made for (identity.json, not a secret) and refuses another.
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';

export interface ClusterIdentity { name: string; apiEndpoint: string; nodeSubnet: string }

/** The identity's place in the store, beside the secrets of the table (plan/secrets.ts). */
export const IDENTITY_FILE = 'identity.json';

export const identityText = (id: ClusterIdentity): string =>
  JSON.stringify({ name: id.name, apiEndpoint: id.apiEndpoint, nodeSubnet: id.nodeSubnet }, null, 2) + '\n';

function parseIdentity(text: string): ClusterIdentity | undefined {
  try {
    const v = JSON.parse(text) as Partial<ClusterIdentity>;
    return typeof v.name === 'string' && typeof v.apiEndpoint === 'string' && typeof v.nodeSubnet === 'string'
      ? { name: v.name, apiEndpoint: v.apiEndpoint, nodeSubnet: v.nodeSubnet }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Problems with the stored identity (`text`, at `path`) against the topology's; none when it matches or none is expected. */
export function checkIdentity(text: string, path: string, dir: string, expected: ClusterIdentity | undefined): Diagnostic[] {
  const stored = parseIdentity(text);
  if (!stored) return [{ severity: 'error', path: [], file: path, ...msg.storeDamaged(path, 'is not a kubebake cluster identity (JSON with name, apiEndpoint, nodeSubnet)') }];
  if (!expected) return [];
  const diff = (Object.keys(stored) as (keyof ClusterIdentity)[]).filter((k) => stored[k] !== expected[k]);
  if (!diff.length) return [];
  const list = (id: ClusterIdentity): string => diff.map((k) => `${k} ${id[k]}`).join(', ');
  return [{ severity: 'error', path: [], file: path, ...msg.storeOtherCluster(dir, path, stored.name, list(stored), list(expected), diff.join(' and ')) }];
}
