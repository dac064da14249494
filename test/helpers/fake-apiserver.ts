// A STAND-IN for kube-apiserver (not the real one), on 127.0.0.1, for the commands that talk to a
// running cluster. It fails where the real one fails:
// - TLS: its serving certificate comes from the cluster CA it is given (as kubeadm's apiserver.crt
//   does), so a client trusting another CA refuses it; client certificates are checked against
//   the same CA (--client-ca-file): one from another CA ends the connection (Go's TLS handshake
//   fails), none at all is the anonymous user;
// - authorization as kubeadm's RBAC has it: the groups kubeadm:cluster-admins (bound to
//   cluster-admin by kubeadm ≥ 1.29) and system:masters may create Secrets; anyone else gets 403
//   with the API's Status object;
// - Secrets are validated as the API validates them (core/v1 Secret: a DNS-1123 subdomain name,
//   the namespace of the URL, data keys of [-._a-zA-Z0-9]+, base64 values, stringData merged into
//   data); a name that exists is 409 AlreadyExists;
// - `authenticate` is the bootstrap token authenticator (kubernetes/kubernetes
//   plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go): the token matches
//   [a-z0-9]{6}.[a-z0-9]{16}, its Secret bootstrap-token-<id> in kube-system has the bootstrap
//   type, the same token-id and token-secret, is not expired, and has
//   usage-bootstrap-authentication "true"; the user is system:bootstrap:<id> in
//   system:bootstrappers plus its auth-extra-groups.
import 'reflect-metadata';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { FakeWorkloads } from './fake-apiserver-workloads.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface StoredSecret { metadata: { name: string; namespace: string }; type?: string; data: Record<string, string> }

export interface FakeApiServer {
  url: string;
  /** Secrets by namespace/name, with data decoded. */
  secrets: Map<string, StoredSecret>;
  /** Requests in order: "METHOD path user". */
  log: string[];
  authenticate(token: string, now?: Date): { user: string; groups: string[] } | undefined;
  /** Nodes, pods, PodDisruptionBudgets and evictions (test/helpers/fake-apiserver-workloads.ts). */
  workloads: FakeWorkloads;
  /** The serving certificate it presents (PEM). */
  servingCert: string;
  close(): Promise<void>;
}

const ADMIN_GROUPS = ['kubeadm:cluster-admins', 'system:masters'];
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A serving certificate for 127.0.0.1 signed by the given CA (ECDSA P-256 or RSA, as the CA key is), valid for an hour unless told. */
async function servingCert(ca: { cert: string; key: string }, validity?: { notBefore: Date; notAfter: Date }): Promise<{ cert: string; key: string }> {
  const ec = createPrivateKey(ca.key).asymmetricKeyType === 'ec';
  const signing = ec ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  const caKey = await webcrypto.subtle.importKey('pkcs8', createPrivateKey(ca.key).export({ type: 'pkcs8', format: 'der' }), ec ? { name: 'ECDSA', namedCurve: 'P-256' } : signing, false, ['sign']);
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const caCert = new x509.X509Certificate(ca.cert);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: 'CN=kube-apiserver',
    issuer: caCert.subject,
    notBefore: validity?.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: validity?.notAfter ?? new Date(Date.now() + 3_600_000),
    signingAlgorithm: signing,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { cert: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n` };
}

/** Subject O values (groups) and CN (user) of a verified client certificate. */
function identity(socket: TLSSocket): { user: string; groups: string[] } {
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.subject || !socket.authorized) return { user: 'system:anonymous', groups: ['system:unauthenticated'] };
  const o = peer.subject.O;
  return { user: String(peer.subject.CN), groups: Array.isArray(o) ? o : o ? [o] : [] };
}

const status = (code: number, reason: string, message: string): object => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code });

/**
 * `authorizedGroups`: the groups RBAC lets create Secrets (kubeadm's by default), and use the
 * workloads' resources; `servingValidity`: the serving certificate's dates; `workloads`: the cluster's
 * objects, when the test made them first.
 */
export async function startFakeApiServer(
  ca: { cert: string; key: string },
  opts: { authorizedGroups?: string[]; servingValidity?: { notBefore: Date; notAfter: Date }; workloads?: FakeWorkloads } = {},
): Promise<FakeApiServer> {
  const authorized = opts.authorizedGroups ?? ADMIN_GROUPS;
  const secrets = new Map<string, StoredSecret>();
  const log: string[] = [];
  const workloads = opts.workloads ?? new FakeWorkloads();
  const serving = await servingCert(ca, opts.servingValidity);
  const server: Server = createServer({ ...serving, ca: ca.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    // A client certificate the CA did not sign: Go's TLS (VerifyClientCertIfGiven) fails the handshake.
    if (socket.getPeerCertificate()?.subject && !socket.authorized) {
      socket.destroy();
      return;
    }
    const who = identity(socket);
    log.push(`${req.method} ${req.url} ${who.user}`);
    const send = (code: number, body: object): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'https://stand-in');
    if (workloads.handles(req.method ?? '', url.pathname)) {
      void workloads.handle(req, url, who.groups.some((g) => authorized.includes(g)), who.user, send);
      return;
    }
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(req.url ?? '');
    if (!m || req.method !== 'POST') return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const ns = m[1]!;
    if (!who.groups.some((g) => authorized.includes(g))) {
      return send(403, status(403, 'Forbidden', `secrets is forbidden: User "${who.user}" cannot create resource "secrets" in API group "" in the namespace "${ns}"`));
    }
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      let obj: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; type?: string; data?: Record<string, string>; stringData?: Record<string, string> };
      try {
        obj = JSON.parse(raw);
      } catch {
        return send(400, status(400, 'BadRequest', 'the object provided is not valid JSON'));
      }
      if (obj.apiVersion !== 'v1' || obj.kind !== 'Secret') return send(400, status(400, 'BadRequest', `the API version in the data (${obj.apiVersion}) does not match the expected API version (v1)`));
      const name = obj.metadata?.name ?? '';
      if (!DNS_SUBDOMAIN.test(name)) return send(422, status(422, 'Invalid', `Secret "${name}" is invalid: metadata.name: Invalid value`));
      if (obj.metadata?.namespace !== undefined && obj.metadata.namespace !== ns) return send(400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(obj.data ?? {})) {
        if (!/^[-._a-zA-Z0-9]+$/.test(k)) return send(422, status(422, 'Invalid', `Secret "${name}" is invalid: data[${k}]: Invalid value`));
        if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) return send(400, status(400, 'BadRequest', `illegal base64 data in data[${k}]`));
        data[k] = Buffer.from(v, 'base64').toString('utf8');
      }
      for (const [k, v] of Object.entries(obj.stringData ?? {})) data[k] = v;
      const key = `${ns}/${name}`;
      if (secrets.has(key)) return send(409, status(409, 'AlreadyExists', `secrets "${name}" already exists`));
      secrets.set(key, { metadata: { name, namespace: ns }, type: obj.type, data });
      send(201, { ...obj, metadata: { ...obj.metadata, namespace: ns } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    secrets,
    log,
    workloads,
    servingCert: serving.cert,
    authenticate(token, now = new Date()) {
      const t = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token);
      if (!t) return undefined;
      const s = secrets.get(`kube-system/bootstrap-token-${t[1]}`);
      if (!s || s.type !== 'bootstrap.kubernetes.io/token') return undefined;
      if (s.data['token-secret'] !== t[2] || s.data['token-id'] !== t[1]) return undefined;
      const exp = s.data.expiration;
      if (exp !== undefined && (Number.isNaN(Date.parse(exp)) || Date.parse(exp) < now.getTime())) return undefined;
      if (s.data['usage-bootstrap-authentication'] !== 'true') return undefined;
      const extra = (s.data['auth-extra-groups'] ?? '').split(',').filter(Boolean);
      if (extra.some((g) => !/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g))) return undefined;
      return { user: `system:bootstrap:${t[1]}`, groups: ['system:bootstrappers', ...extra] };
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
