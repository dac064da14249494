// admin.conf: the kubeconfig kubeadm writes for the cluster admin, here made from the stored
// admin certificate so the operator has kubectl access as soon as the first control plane is up,
// without copying anything off a node.
import { toYaml11 } from '../util/yaml.js';

export interface AdminKubeconfigInput {
  clusterName: string;
  /** The API endpoint everyone uses (load balancer / VIP), e.g. https://10.0.0.10:<apiEndpoint.port>. */
  server: string;
  /** PEM of the cluster CA certificate (not its key). */
  caCert: string;
  clientCert: string;
  clientKey: string;
}

/** kubeadm's user name for admin.conf; the context is `<user>@<cluster>` as kubeadm names it. */
export const ADMIN_USER = 'kubernetes-admin';

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

export function renderAdminKubeconfig(o: AdminKubeconfigInput): string {
  const context = `${ADMIN_USER}@${o.clusterName}`;
  // Same shape and key order as kubeadm's admin.conf (Go marshals keys alphabetically). The
  // *-data fields hold the PEM files base64-encoded (not the DER): client-go decodes, then parses PEM.
  const config = {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': b64(o.caCert), server: o.server }, name: o.clusterName }],
    contexts: [{ context: { cluster: o.clusterName, user: ADMIN_USER }, name: context }],
    'current-context': context,
    kind: 'Config',
    preferences: {},
    users: [{ name: ADMIN_USER, user: { 'client-certificate-data': b64(o.clientCert), 'client-key-data': b64(o.clientKey) } }],
  };
  // client-go reads kubeconfig through go-yaml, which follows YAML 1.1: a cluster named `on` or
  // `no` must come out quoted, which the 1.1 emitter does.
  return toYaml11(config);
}
