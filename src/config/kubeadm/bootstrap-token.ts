// A bootstrap token as the API stores it: a Secret in kube-system, exactly as kubeadm writes one
// (`kubeadm token create` and the init phase go through the same encoding).
// Sources, kubernetes/kubernetes:
// - staging/src/k8s.io/cluster-bootstrap/token/api/types.go @3510e45d9707ac09d884598ec2a6178b4fe370f9:
//   the Secret's name prefix, type and data keys; usages are "usage-bootstrap-<usage>": "true";
//   expiration is an absolute UTC time in RFC 3339;
// - cmd/kubeadm/app/apis/bootstraptoken/v1/utils.go @1c9cf914f2f951313b8e9f7c321f5bd50b5e3d9f
//   (BootstrapTokenToSecret, encodeTokenSecretData): the keys written, groups comma-joined;
// - cmd/kubeadm/app/constants/constants.go: NodeBootstrapTokenAuthGroup, the group kubeadm's
//   RBAC lets post node CSRs and read cluster-info.
import type { BootstrapToken } from '../../plan/pki.js';

export const TOKEN_USAGES = ['signing', 'authentication'] as const;
export const TOKEN_GROUPS = ['system:bootstrappers:kubeadm:default-node-token'] as const;
export const TOKEN_DESCRIPTION = 'kubebake: joins the other nodes of this cluster';

export interface TokenSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: 'kube-system' };
  type: 'bootstrap.kubernetes.io/token';
  /** base64 of each value, as the API's Secret.data holds bytes. */
  data: Record<string, string>;
}

/** RFC 3339 in UTC without fractions, as Go's time.RFC3339 prints a UTC time. */
const rfc3339 = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The Secret for `token`, expiring `ttlSeconds` after `now` (0: never). */
export function bootstrapTokenSecret(token: BootstrapToken, ttlSeconds: number, now: Date): TokenSecret {
  const data: Record<string, string> = {
    'token-id': token.id,
    'token-secret': token.secret,
    description: TOKEN_DESCRIPTION,
    ...(ttlSeconds > 0 ? { expiration: rfc3339(new Date(now.getTime() + ttlSeconds * 1000)) } : {}),
    ...Object.fromEntries(TOKEN_USAGES.map((u) => [`usage-bootstrap-${u}`, 'true'])),
    'auth-extra-groups': TOKEN_GROUPS.join(','),
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${token.id}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}
