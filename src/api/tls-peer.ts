// The certificate a TLS server presents, read from the handshake alone (no request, no client
// certificate), and whether it checks against the cluster CA: how `certs check` sees the API
// servers' serving certificates without logging in to a control plane.
import { connect } from 'node:tls';
import type { X509Certificate } from 'node:crypto';

export interface PeerCertificate {
  cert: X509Certificate;
  /** Node's verification of the chain against `ca` (OpenSSL's code, e.g. CERT_HAS_EXPIRED), or undefined when it verified. */
  verifyError?: string;
}

/** Connects to host:port, takes the server's certificate and closes. Rejects on network errors and after `timeoutMs`. */
export function peerCertificate(host: string, port: number, ca: string, timeoutMs: number): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    // The verdict is taken from `authorized` below, so an expired or foreign certificate is reported, not just refused.
    const socket = connect({ host, port, ca, rejectUnauthorized: false, timeout: timeoutMs });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no TLS handshake within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerX509Certificate();
      const verifyError = socket.authorized ? undefined : String(socket.authorizationError ?? 'unverified');
      socket.end();
      if (cert) resolve({ cert, verifyError });
      else reject(Object.assign(new Error('the server presented no certificate'), { code: 'ENOCERT' }));
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
