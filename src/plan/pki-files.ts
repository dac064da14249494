// The cluster PKI, file by file: one table that says where each piece lives in the secrets store,
// where kubeadm expects it on a control plane, and who receives it (after Cluster API's
// util/secret/certificates.go, where one descriptor list drives generate, lookup and write-out).
import type { Secrets } from './secrets.js';

export interface PkiFile {
  /** Path under /etc/kubernetes/pki (kubeadm's names) and under the store's pki/ folder. */
  name: string;
  /** A private key: 0600 wherever it is written. */
  secret: boolean;
  /** Shipped to every control plane (kubeadm's shared certificates); the rest stays with the operator. */
  shared: boolean;
  content: (s: Secrets) => string;
}

export const PKI_FILES: readonly PkiFile[] = [
  { name: 'ca.crt', secret: false, shared: true, content: (s) => s.ca.cert },
  { name: 'ca.key', secret: true, shared: true, content: (s) => s.ca.key },
  { name: 'front-proxy-ca.crt', secret: false, shared: true, content: (s) => s.frontProxyCa.cert },
  { name: 'front-proxy-ca.key', secret: true, shared: true, content: (s) => s.frontProxyCa.key },
  { name: 'etcd/ca.crt', secret: false, shared: true, content: (s) => s.etcdCa.cert },
  { name: 'etcd/ca.key', secret: true, shared: true, content: (s) => s.etcdCa.key },
  { name: 'sa.key', secret: true, shared: true, content: (s) => s.sa.key },
  { name: 'sa.pub', secret: false, shared: true, content: (s) => s.sa.pub },
  { name: 'admin.crt', secret: false, shared: false, content: (s) => s.admin.cert },
  { name: 'admin.key', secret: true, shared: false, content: (s) => s.admin.key },
];

/** What a joining control plane needs so kubeadm reuses the cluster's identity instead of making one. */
export const SHARED_PKI: readonly PkiFile[] = PKI_FILES.filter((f) => f.shared);
