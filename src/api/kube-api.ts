// Talking to a running cluster's API: Node's https with the admin client certificate from the
// secrets store and the cluster CA as the only trust root, so no kubectl, no kubeconfig on disk
// and no ssh to a control plane are needed. Errors come back as diagnostics naming the server.
import { request } from 'node:https';
import { API_SERVER_PORT } from '../topology/facts/kubeadm.js';
import { problem, type Diagnostic } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';

export interface ApiCredentials {
  /** https://host:port of the API (the load balancer, or a control plane). */
  server: URL;
  caCert: string;
  clientCert: string;
  clientKey: string;
}

export interface ApiResponse { status: number; body: unknown }

/**
 * One JSON request, bounded by `timeoutMs` from start to end. Rejects on network and TLS errors.
 * `contentType`: a PATCH names its patch format (application/merge-patch+json, …); the API
 * answers any other with 415.
 */
export function apiRequest(creds: ApiCredentials, method: string, path: string, body: unknown, timeoutMs: number, contentType = 'application/json'): Promise<ApiResponse> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: creds.server.hostname,
        port: creds.server.port || 443,
        method,
        path,
        ca: creds.caCert,
        cert: creds.clientCert,
        key: creds.clientKey,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 1 << 20) chunks.push(c);
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (a proxy's error page, say): kept as text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Why a request did not get an answer, in words an operator can act on. */
export function networkProblem(server: URL, e: unknown): Diagnostic {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? '';
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|DEPTH_ZERO/.test(code);
  const m = tls ? msg.apiNotThisCluster(server.origin, code, err.message) : msg.apiUnreachable(server.origin, code, err.message, API_SERVER_PORT);
  return problem(m, { path: ['apiEndpoint'] });
}

/** A refusal by the API (a Status object), with what it means for the admin credentials. */
export function apiRefusal(server: URL, what: string, r: ApiResponse): Diagnostic {
  const status = r.body as { message?: string; reason?: string } | undefined;
  const detail = typeof status === 'object' && status?.message ? status.message : typeof r.body === 'string' ? r.body.slice(0, 200) : '';
  return problem(msg.apiRefused(server.origin, what, r.status, detail), { path: ['apiEndpoint'] });
}
