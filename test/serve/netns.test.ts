// `kubebake serve` as an operator runs it, in a private network namespace where the provisioning
// machine (delivery.server, 10.30.0.5) and two hosts of the PXE profile (cp1 10.30.0.11, worker1
// 10.30.0.21) each have their own address: the server listens on delivery.server's address by
// default (not on every interface), a host's secret seed files go to that host's address only and
// to nobody once it reported its join done, the Host header must name the server, and
// `--reinstall` re-arms a host. Requests are made from inside the namespace (nsenter) with each
// address as the source, over real sockets. Root only (unshare -n).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportKey } from '../../src/plan/report-keys.js';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { signedHeaders } from '../helpers/serve.js';
import { netnsUnavailable, serveInNamespace as inNamespace, statusOf as status, type Answer, type Ask as NsAsk } from '../helpers/serve-netns.js';
import { withTempDir } from '../helpers/tmp.js';

const PXE = repoPath('profiles', 'pxe.yaml');
const SERVER = '10.30.0.5';
const CP1 = '10.30.0.11';
const WORKER1 = '10.30.0.21';
const skip = netnsUnavailable();

/** A request to the server (delivery.server, port 8080) unless `to` says otherwise. */
type Ask = Omit<NsAsk, 'to' | 'port'> & { to?: string };

/** serve of the PXE profile in its namespace, asked as the hosts would ask. */
async function serveInNamespace(dir: string, out: string, extra: string[] = []): Promise<{ ask: (asks: Ask[]) => Answer[]; stop: () => Promise<unknown> }> {
  const s = await inNamespace(dir, { file: PXE, out, addresses: [SERVER, CP1, WORKER1], extra });
  return { ask: (asks) => s.ask(asks.map((a) => ({ to: SERVER, port: 8080, ...a }))), stop: s.stop };
}

test('in a network namespace: default listen address, seeds to their host only, sealed after the join, Host checked, --reinstall re-arms', { skip, timeout: 180_000 }, async () => {
  await withTempDir(async (out) => {
    const r = runKubebake(['render', 'cloud-init', '-f', PXE, '-o', out, '--delivery', 'pxe']);
    assert.equal(r.status, 0, r.stderr);
    const pxe = join(out, 'metal', 'pxe');
    const userData = readFileSync(join(pxe, 'nocloud', 'cp1', 'user-data'), 'latin1');
    assert.match(userData, /PRIVATE KEY/, 'the fixture: cp1\'s user-data carries the cluster CAs\' keys');
    const secret = readFileSync(join(out, 'metal', 'secrets', 'report.secret'), 'utf8').trim();

    let s = await serveInNamespace(out, out);
    try {
      const [own, other, server, meta, workerOwn, rebound, loopback, api] = s.ask([
        { from: CP1, path: '/nocloud/cp1/user-data' },
        { from: WORKER1, path: '/nocloud/cp1/user-data' },
        { from: SERVER, path: '/nocloud/cp1/user-data' },
        { from: WORKER1, path: '/nocloud/cp1/meta-data' },
        { from: WORKER1, path: '/nocloud/worker1/user-data' },
        { from: CP1, path: '/nocloud/cp1/user-data', headers: { Host: 'rebound.example:8080' } },
        { to: '127.0.0.1', path: '/api/status' },
        { from: CP1, path: '/api/status' },
      ]);
      assert.equal(status(own), 200, 'cp1 from its own address');
      assert.equal(own && 'body' in own ? own.body : '', userData, 'byte for byte');
      assert.equal(status(other), 403, "cp1's seed from worker1's address");
      assert.ok(other && 'body' in other && !other.body.includes('PRIVATE KEY'));
      assert.equal(status(server), 403, "from the server's own address");
      assert.equal(status(meta), 200, 'meta-data to anyone');
      assert.equal(status(workerOwn), 200);
      assert.equal(status(rebound), 421, 'a Host that is not delivery.server');
      assert.equal(status(loopback), 'ECONNREFUSED', 'by default it listens on delivery.server\'s address only');
      assert.equal(status(api), 200);

      // cp1's installer fetches its preseed; its system reports every step, signed: it joined.
      const steps = (JSON.parse((api as { body: string }).body) as { hosts: { name: string; steps: { name: string }[] }[] }).hosts.find((h) => h.name === 'cp1')!.steps.map((x) => x.name);
      const reports: Ask[] = steps.flatMap((step) => ['start', 'end'].map((ev) => {
        const body = `event=${ev}\nstep=${step}\n`;
        return { from: CP1, method: 'POST', path: '/report/cp1', headers: signedHeaders(reportKey(secret, 'cp1'), '/report/cp1', body), body };
      }));
      const answers = s.ask([{ from: CP1, path: '/preseed/cp1.cfg' }, ...reports, { from: CP1, path: '/nocloud/cp1/user-data' }, { from: WORKER1, path: '/nocloud/worker1/user-data' }]);
      assert.equal(status(answers[0]), 200);
      assert.deepEqual(answers.slice(1, -2).map(status), reports.map(() => 204));
      assert.equal(status(answers.at(-2)), 410, 'sealed once cp1 joined');
      assert.equal(status(answers.at(-1)), 200, 'worker1 is not');
    } finally {
      await s.stop();
    }
    s = await serveInNamespace(out, out, ['--reinstall', 'cp1']);
    try {
      const [own, other] = s.ask([{ from: CP1, path: '/nocloud/cp1/user-data' }, { from: WORKER1, path: '/nocloud/cp1/user-data' }]);
      assert.equal(status(own), 200, 're-armed: served to cp1 again');
      assert.equal(status(other), 403, 'and to cp1 only');
    } finally {
      await s.stop();
    }
  });
});
