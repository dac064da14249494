import { createHash } from 'node:crypto';
import type { NodePlan } from '../../plan/plan.js';
import { toYaml11 } from '../yaml.js';

/**
 * NoCloud meta-data. The instance-id is stable for the same host and content, and changes when
 * the content changes — which is what tells cloud-init a re-attached seed is a new instance.
 */
export function renderMetaData(node: NodePlan, userData: string, networkConfig: string): string {
  const digest = createHash('sha256').update(userData).update('\0').update(networkConfig).digest('hex').slice(0, 12);
  return toYaml11({ 'instance-id': `${node.name}-${digest}`, 'local-hostname': node.name });
}
