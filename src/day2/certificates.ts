// Expiry of a cluster's certificates: each one's end date, how many days are left, and what
// renews it. Pure: the CLI (src/cli/certs.ts) reads the certificates and the clock.
//
// What renews what (kubernetes/website content/en/docs/tasks/administer-cluster/kubeadm/
// kubeadm-certs.md): kubeadm's CAs live 10 years and kubeadm never rotates them ("Certificate
// authority (CA) rotation"); the other certificates it makes live 1 year; "kubeadm renews all the
// certificates during control plane upgrade" ("Automatic certificate renewal"); otherwise
// `kubeadm certs renew all` on every control plane, then a restart of the control-plane static
// pods ("Manual certificate renewal"); kubelet.conf's client certificate is rotated by the kubelet
// itself. kubebake's admin.crt is re-issued by the next render once it has expired (src/plan/secrets.ts).

export type CertStatus = 'ok' | 'expiring' | 'expired' | 'foreign' | 'unreachable';

export type CertKind = 'ca' | 'admin' | 'apiserver';

export interface CertReport {
  /** e.g. "ca", "admin", "apiserver cp1". */
  name: string;
  kind: CertKind;
  /** Where it was read: a file of the store, or host:port of a TLS handshake. */
  source: string;
  notAfter?: Date;
  daysLeft?: number;
  status: CertStatus;
  /** Why it could not be checked (unreachable, foreign). */
  detail?: string;
}

const DAY = 86_400_000;

/** ok, expiring (fewer than `warnDays` whole days left) or expired, at `now`. */
export function expiryStatus(notAfter: Date, now: Date, warnDays: number): { status: CertStatus; daysLeft: number } {
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY);
  if (notAfter.getTime() <= now.getTime()) return { status: 'expired', daysLeft };
  return { status: daysLeft < warnDays ? 'expiring' : 'ok', daysLeft };
}

/** What to do about a certificate of this kind before (or after) it runs out. */
export function renewal(kind: CertKind): string {
  switch (kind) {
    case 'ca':
      return 'kubeadm makes CAs for 10 years and never rotates them: plan a CA rotation (kubernetes.io, "Manual rotation of CA certificates")';
    case 'admin':
      return 'the next kubebake render (render cloud-init, token create) re-issues it from the cluster CA once it has expired; hand out the new admin.conf';
    case 'apiserver':
      return 'kubeadm renews every control-plane certificate on each upgrade (kubebake upgrade, at least once a year); without one: sudo kubeadm certs renew all on every control plane, then restart its control-plane static pods (kubernetes.io, "Certificate Management with kubeadm")';
  }
}

/** The worst outcome decides the exit: expired, then not checked, then expiring. */
export function worst(reports: readonly CertReport[]): 'expired' | 'unchecked' | 'expiring' | 'ok' {
  if (reports.some((r) => r.status === 'expired')) return 'expired';
  if (reports.some((r) => r.status === 'foreign' || r.status === 'unreachable')) return 'unchecked';
  if (reports.some((r) => r.status === 'expiring')) return 'expiring';
  return 'ok';
}
