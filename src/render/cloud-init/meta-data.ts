import { createHash } from 'node:crypto';
import { toYaml11 } from '../../util/yaml.js';

/** What the instance-id is derived from: the host's user-data and network-config. */
export const metaDataDigest = (userData: string, networkConfig: string): string =>
  createHash('sha256').update(userData).update('\0').update(networkConfig).digest('hex').slice(0, 12);

/**
 * NoCloud meta-data. The instance-id is stable for the same host and content, and changes when
 * the content changes — which is what tells cloud-init a re-attached seed is a new instance.
 */
export function renderMetaData(hostname: string, digest: string): string {
  return toYaml11({ 'instance-id': `${hostname}-${digest}`, 'local-hostname': hostname });
}
