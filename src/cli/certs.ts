// `kubebake certs check`: when the cluster's certificates run out.
// - From the secrets store: the three CAs and the admin certificate (admin.conf), read as files
//   (the store's own table, STORE_ENTRIES), so an expired one is reported rather than refused.
// - Through the network: each control plane's API server certificate, from a TLS handshake with
//   https://<control plane>:API_SERVER_PORT (kubeadm's bindPort in kubebake's configs), or only --server's;
//   checked against the stored cluster CA. kubeadm makes the control planes' other certificates
//   (etcd, front-proxy client, the kubeconfigs of controller-manager and scheduler) together with
//   this one and renews them together, so its date stands for them; `sudo kubeadm certs
//   check-expiration` on a control plane lists them one by one.
// - Not checked: kubelet certificates. Their client certificates rotate themselves (kubeadm
//   configures rotation); their serving certificates are self-signed by each kubelet, and a
//   kubeadm API server does not verify them.
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerCertificate } from '../api/tls-peer.js';
import { expiryStatus, renewal, worst, type CertKind, type CertReport } from '../day2/certificates.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { formatDiagnostics } from '../diagnostics/print.js';
import { buildPlan, controlPlanes } from '../plan/plan.js';
import { storePath } from '../store/secrets-store.js';
import { fail, parseAccess } from './cluster-access.js';
import { EXIT } from './exit.js';
import { noStore } from './render.js';
import { usageError } from './say.js';
import { loadAndReport } from './validate.js';
import { API_SERVER_PORT } from '../topology/facts/kubeadm.js';

export interface CertsCheckOptions { file: string; out: string; server?: string; timeout?: string; json?: boolean; warnDays?: string }

/** The stored certificates, by name, with the store file each is read from. */
const STORED: { name: string; kind: CertKind; file: string }[] = [
  { name: 'ca', kind: 'ca', file: storePath('ca.cert') },
  { name: 'front-proxy-ca', kind: 'ca', file: storePath('frontProxyCa.cert') },
  { name: 'etcd-ca', kind: 'ca', file: storePath('etcdCa.cert') },
  { name: 'admin (admin.conf)', kind: 'admin', file: storePath('admin.cert') },
];

export async function runCertsCheck(opts: CertsCheckOptions): Promise<number> {
  const access = parseAccess(opts);
  if (typeof access === 'number') return access;
  const warnDays = Number(opts.warnDays ?? '30');
  if (!Number.isInteger(warnDays) || warnDays < 0 || warnDays > 3650) {
    return usageError(msg.badWarnDays(opts.warnDays));
  }
  const loaded = await loadAndReport({ file: opts.file });
  if (!loaded.topology) return EXIT.invalid;
  const plan = buildPlan(loaded.topology);
  const secretsDir = join(opts.out, plan.name, 'secrets');
  if (!existsSync(join(secretsDir, storePath('ca.cert')))) return fail([noStore(secretsDir)]);
  const now = new Date();
  const at = (notAfter: Date): Pick<CertReport, 'notAfter' | 'daysLeft' | 'status'> => ({ notAfter, ...expiryStatus(notAfter, now, warnDays) });

  const reports: CertReport[] = [];
  let ca: string | undefined;
  for (const s of STORED) {
    const path = join(secretsDir, s.file);
    let pem: string;
    let cert: X509Certificate;
    try {
      pem = readFileSync(path, 'utf8');
      cert = new X509Certificate(pem);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      reports.push({ name: s.name, kind: s.kind, source: path, status: 'unreachable', detail: code ? `cannot read it (${code})` : 'not a PEM certificate' });
      continue;
    }
    if (s.file === storePath('ca.cert')) ca = pem;
    reports.push({ name: s.name, kind: s.kind, source: path, ...at(new Date(cert.validTo)) });
  }

  const targets = access.server
    ? [{ name: 'apiserver', host: access.server.hostname.replace(/^\[|\]$/g, ''), port: Number(access.server.port || 443) }]
    : controlPlanes(plan).map((n) => ({ name: `apiserver ${n.name}`, host: n.ip, port: API_SERVER_PORT }));
  reports.push(
    ...(await Promise.all(
      targets.map(async (t): Promise<CertReport> => {
        const source = `${t.host}:${t.port} (TLS handshake)`;
        if (!ca) return { name: t.name, kind: 'apiserver', source, status: 'unreachable', detail: 'no cluster CA to check it against' };
        try {
          const peer = await peerCertificate(t.host, t.port, ca, access.timeoutMs);
          const notAfter = new Date(peer.cert.validTo);
          // An expired certificate fails verification too: its date says so, whoever signed it.
          if (peer.verifyError && peer.verifyError !== 'CERT_HAS_EXPIRED') return { name: t.name, kind: 'apiserver', source, notAfter, status: 'foreign', detail: peer.verifyError };
          return { name: t.name, kind: 'apiserver', source, ...at(notAfter) };
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          return { name: t.name, kind: 'apiserver', source, status: 'unreachable', detail: `${err.code ?? 'error'}: ${err.message}` };
        }
      }),
    )),
  );

  if (opts.json) process.stdout.write(`${JSON.stringify({ checkedAt: now.toISOString(), warnDays, certificates: reports.map(jsonRow) }, null, 2)}\n`);
  else {
    process.stdout.write(table(reports));
    const problems = reports.flatMap(diagnostic);
    if (problems.length) process.stderr.write(formatDiagnostics(problems));
  }
  const verdict = worst(reports);
  return verdict === 'expired' ? EXIT.certsExpired : verdict === 'unchecked' ? EXIT.invalid : verdict === 'expiring' ? EXIT.certsExpiring : EXIT.ok;
}

const utc = (d: Date): string => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

function jsonRow(r: CertReport): object {
  return {
    name: r.name,
    source: r.source,
    notAfter: r.notAfter?.toISOString() ?? null,
    daysLeft: r.daysLeft ?? null,
    status: r.status,
    ...(r.detail ? { detail: r.detail } : {}),
    renew: renewal(r.kind),
  };
}

function table(reports: CertReport[]): string {
  const rows = [['CERTIFICATE', 'EXPIRES', 'LEFT', 'STATUS', 'FROM'], ...reports.map((r) => [r.name, r.notAfter ? utc(r.notAfter) : '-', r.daysLeft === undefined ? '-' : `${r.daysLeft}d`, r.status, r.source])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  lines.push('', 'not checked: kubelet certificates (client: rotated by each kubelet; serving: self-signed, not verified by the API server); the control planes\' other kubeadm certificates are made and renewed with the API server\'s (sudo kubeadm certs check-expiration lists them)');
  return `${lines.join('\n')}\n`;
}

function diagnostic(r: CertReport): Diagnostic[] {
  const what = `${r.name} (${r.source})`;
  const d = (m: { code: string; message: string; hint?: string }, severity: Diagnostic['severity']): Diagnostic[] => [{ severity, path: [], ...m }];
  switch (r.status) {
    case 'expired':
      return d(msg.certExpired(what, utc(r.notAfter!), renewal(r.kind)), 'error');
    case 'expiring':
      return d(msg.certExpiring(what, r.daysLeft!, utc(r.notAfter!), renewal(r.kind)), 'warning');
    case 'foreign':
      return d(msg.certForeign(what, r.detail ?? ''), 'error');
    case 'unreachable':
      return d(msg.certUnchecked(what, r.detail ?? '', API_SERVER_PORT), 'error');
    default:
      return [];
  }
}
