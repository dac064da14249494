// `kubebake token create` against a stand-in kube-apiserver on 127.0.0.1 (test/helpers/fake-apiserver.ts):
// the token the re-rendered hosts carry is one the API's bootstrap token authenticator accepts,
// and when the API cannot be reached or refuses, nothing changes on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { startFakeApiServer } from '../helpers/fake-apiserver.js';
import { repoPath } from '../helpers/repo.js';
import { snapshotDir, withTempDir } from '../helpers/tmp.js';

const TOPOLOGY = repoPath('profiles', 'default.yaml');
const render = (out: string): void => {
  const r = runKubebake(['render', 'cloud-init', '-f', TOPOLOGY, '-o', out, '--delivery', 'none']);
  assert.equal(r.status, 0, r.stderr);
};
/** The files under a cluster folder (content, mode, inode): the folder's own mtime moves with the render lock. */
const files = (dir: string): Map<string, unknown> => new Map([...snapshotDir(dir)].filter(([, e]) => e.sha256 !== undefined));
const store = (out: string, file: string): string => readFileSync(join(out, 'default', 'secrets', file), 'utf8');
const ca = (out: string): { cert: string; key: string } => ({ cert: store(out, 'pki/ca.crt'), key: store(out, 'pki/ca.key') });

/** The token in a host's kubeadm join config, as kubeadm on that host would read it. */
function joinToken(out: string, host: string): string {
  const ud: string = readFileSync(join(out, 'default', 'hosts', host, 'user-data'), 'utf8');
  const files = (parseAllDocuments(ud)[0]!.toJS() as { write_files: { path: string; content: string }[] }).write_files;
  const config: string = files.find((f) => f.path === '/etc/kubebake/kubeadm.yaml')!.content;
  const joinConfig = parseAllDocuments(config)
    .map((d) => d.toJS() as { kind: string; discovery?: { bootstrapToken: { token: string } } })
    .find((d) => d.kind === 'JoinConfiguration');
  return joinConfig!.discovery!.bootstrapToken.token;
}

test('token create: registers a fresh token through the API with the stored admin certificate; every joining host carries it; the API accepts it', async () =>
  withTempDir(async (out) => {
    render(out);
    const old = store(out, 'token').trim();
    const api = await startFakeApiServer(ca(out));
    try {
      const started = Date.now();
      const r = await runKubebakeAsync(['token', 'create', '-f', TOPOLOGY, '-o', out, '--server', api.url, '--delivery', 'none']);
      assert.equal(r.status, 0, r.stderr);
      const token = store(out, 'token').trim();
      assert.notEqual(token, old);
      const [id, secret] = token.split('.');
      assert.match(r.stderr, new RegExp(`registered bootstrap token ${id} with the API at ${api.url.replace(/\./g, '\\.')}`));
      for (const text of [r.stdout, r.stderr]) {
        assert.ok(!text.includes(secret!) && !text.includes(old.split('.')[1]!), 'no token secret is printed');
      }
      // One request, by the admin certificate's user.
      assert.deepEqual(api.log, ['POST /api/v1/namespaces/kube-system/secrets kubernetes-admin']);
      // What a node booted from the new user-data presents authenticates, in kubeadm's node group.
      for (const host of ['worker1', 'worker2', 'cp2', 'cp3']) assert.equal(joinToken(out, host), token, host);
      assert.deepEqual(api.authenticate(joinToken(out, 'worker1')), {
        user: `system:bootstrap:${id}`,
        groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token'],
      });
      assert.equal(api.authenticate(old), undefined, 'the old token was never registered here');
      // It expires after bootstrap.tokenTTL (24h in the profile), and then no longer authenticates.
      const s = api.secrets.get(`kube-system/bootstrap-token-${id}`)!;
      assert.equal(s.data['usage-bootstrap-signing'], 'true', 'kubeadm discovery verifies cluster-info with signing tokens');
      const expires = Date.parse(s.data.expiration!);
      assert.ok(expires >= started + 24 * 3600_000 - 2000 && expires <= Date.now() + 24 * 3600_000 + 2000, s.data.expiration);
      assert.equal(api.authenticate(token, new Date(expires + 1000)), undefined);
      // Rendering again with the same store changes nothing: the new token is the stored one.
      const before = files(join(out, 'default'));
      render(out);
      assert.deepEqual(files(join(out, 'default')), before);
    } finally {
      await api.close();
    }
  }));

/** Runs token create against `server` and checks that it failed with `message` and changed nothing. */
async function refused(out: string, server: string, message: RegExp, extra: string[] = []): Promise<void> {
  const before = files(join(out, 'default'));
  const r = await runKubebakeAsync(['token', 'create', '-f', TOPOLOGY, '-o', out, '--server', server, '--delivery', 'none', ...extra]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  assert.deepEqual(files(join(out, 'default')), before, 'nothing written: store and user-data as they were');
}

test('token create: an unreachable API, one that never answers, one of another cluster, and a refusal change nothing', async () =>
  withTempDir(async (out) => {
    render(out);
    // Nothing listens.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await refused(out, `https://127.0.0.1:${port}`, /cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
    // Accepts the connection, never answers: bounded by --timeout.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const t0 = Date.now();
      await refused(out, `https://127.0.0.1:${(silent.address() as { port: number }).port}`, /cannot reach the Kubernetes API .*no answer within 1 s/, ['--timeout', '1']);
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      silent.close();
    }
    // Another cluster's API: its certificate is from another CA.
    await withTempDir(async (other) => {
      render(other);
      const api = await startFakeApiServer(ca(other));
      try {
        await refused(out, api.url, /is not this cluster's API: its certificate does not check against the cluster CA/);
        assert.deepEqual(api.log, [], 'no request was sent to it');
      } finally {
        await api.close();
      }
    });
    // The API refuses: the admin certificate's group is not bound to cluster-admin there (403, the API's own words).
    const api = await startFakeApiServer(ca(out), { authorizedGroups: ['system:masters'] });
    try {
      await refused(out, api.url, /refused to create the bootstrap token's Secret bootstrap-token-[a-z0-9]{6}: HTTP 403: secrets is forbidden: User "kubernetes-admin" cannot create/);
      assert.equal(api.secrets.size, 0);
    } finally {
      await api.close();
    }
  }));

test('token create: no secrets store (a cluster never rendered) is an input error; a bad --server is a usage error', async () =>
  withTempDir(async (out) => {
    const r = await runKubebakeAsync(['token', 'create', '-f', TOPOLOGY, '-o', out, '--server', 'https://127.0.0.1:1']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /no secrets store in .*default\/secrets: this command is for a cluster kubebake rendered before/);
    assert.match(r.stderr, /hint: render the cluster first/);
    assert.deepEqual(readdirSync(out), [], 'no folder made');
    for (const bad of ['http://127.0.0.1:6443', 'not a url', 'https://127.0.0.1:6443/api']) {
      const u = runKubebake(['token', 'create', '-f', TOPOLOGY, '-o', out, '--server', bad]);
      assert.equal(u.status, 2, `${bad}: ${u.stderr}`);
      assert.match(u.stderr, /--server: .* is not an https:\/\/host:port URL/);
    }
  }));
