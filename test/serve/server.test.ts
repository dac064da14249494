// `kubebake serve` over real sockets: the PXE tree read-only (known files only, no listing, no
// escape by `..`, encodings or symlinks, content types, ETag, HEAD), authenticated reports, and
// hostile clients (oversized and malformed bodies, another host's key, slow clients): each
// refused with its status, the server still answering, nothing written outside serve-state/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_FILE } from '../../src/serve/store.js';
import { call, HOSTS, ipOf, makeCluster, OUTSIDE, raw, report, serve, signedHeaders, type Reply } from '../helpers/serve.js';
import { snapshotDir, withTempDir } from '../helpers/tmp.js';

const key = (name: string): string => HOSTS.find((h) => h.name === name)!.key;
/** Well-formed signature headers (a wrong signature): enough to get a report's body read. */
const SIGNED = `Kubebake-Time: ${Math.floor(Date.now() / 1000)}\r\nKubebake-Nonce: ${'0'.repeat(32)}\r\nKubebake-Signature: ${'0'.repeat(64)}\r\n`;

test('seeds: served with content type, ETag and HEAD; If-None-Match gives 304; fetches mark the host', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      const cp1At = { from: ipOf('cp1') };
      const ud = await call(s.port, 'GET', '/nocloud/cp1/user-data', cp1At);
      assert.equal(ud.status, 200);
      assert.equal(ud.body, 'user-data of cp1\n');
      assert.equal(ud.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(ud.headers['x-content-type-options'], 'nosniff');
      const etag = ud.headers.etag!;
      assert.match(etag, /^"[0-9a-z]+-[0-9a-z]+-[0-9a-z]+"$/);
      const again = await call(s.port, 'GET', '/nocloud/cp1/user-data', { ...cp1At, headers: { 'If-None-Match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.body, '');
      const head = await call(s.port, 'HEAD', '/nocloud/cp1/meta-data');
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], String('meta-data of cp1\n'.length));
      assert.equal(head.body, '');
      assert.equal((await call(s.port, 'GET', '/hosts.json')).headers['content-type'], 'application/json');
      assert.equal((await call(s.port, 'GET', '/autoinstall/cp1.yaml', cp1At)).headers['content-type'], 'application/yaml');
      assert.equal((await call(s.port, 'GET', '/ipxe/52:54:00:20:00:11.ipxe')).status, 200);
      assert.equal((await call(s.port, 'GET', '/boot/vmlinuz')).headers['content-type'], 'application/octet-stream');
      assert.equal((await call(s.port, 'GET', '/boot/kernel-link')).body, 'KERNEL', 'a link inside the tree is followed');
      // A changed file gets a new validator.
      writeFileSync(join(dir, 'cluster/pxe/nocloud/cp1/user-data'), 'user-data of cp1, re-rendered\n');
      const changed = await call(s.port, 'GET', '/nocloud/cp1/user-data', { ...cp1At, headers: { 'If-None-Match': etag } });
      assert.equal(changed.status, 200);
      assert.notEqual(changed.headers.etag, etag);

      const cp1 = s.status().hosts.find((h) => h.name === 'cp1')!;
      assert.equal(cp1.phase, 'seed-fetched');
      assert.deepEqual(cp1.seedFiles, ['user-data', 'autoinstall', 'ipxe']); // HEAD (meta-data) does not count
      assert.equal(s.status().hosts.find((h) => h.name === 'worker1')!.phase, 'waiting');
    } finally {
      await s.close();
    }
  });
});

test('only known files: no listing, unknown hosts and names 404, other methods 405', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      for (const path of ['/nocloud', '/nocloud/cp9/user-data', '/nocloud/cp1/secret', '/unlisted.txt', '/boot', '/secrets/token', '/ipxe/52:54:00:99:99:99.ipxe', '/boot/.hidden', '/favicon.ico'])
        assert.equal((await call(s.port, 'GET', path)).status, 404, path);
      for (const path of ['/nocloud/', '/nocloud/cp1/', '/boot/', '//nocloud/cp1/user-data'])
        assert.equal((await call(s.port, 'GET', path)).status, 400, path);
      const put = await call(s.port, 'PUT', '/nocloud/cp1/user-data', { body: 'x' });
      assert.equal(put.status, 405);
      assert.equal(put.headers.allow, 'GET, HEAD');
      const getReport = await call(s.port, 'GET', '/report/cp1');
      assert.equal(getReport.status, 405);
      assert.equal(getReport.headers.allow, 'POST');
    } finally {
      await s.close();
    }
  });
});

test('path escapes are refused: .., encoded dots and slashes, backslashes, NUL, symlinks out of the tree', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      const attempts = [
        '/../outside.txt',
        '/nocloud/cp1/../../../outside.txt',
        '/%2e%2e/outside.txt',
        '/%2E%2E/secrets/token',
        '/nocloud/cp1/..%2f..%2f..%2foutside.txt',
        '/nocloud%2fcp1%2fuser-data',
        '/boot/..%5c..%5coutside.txt',
        '/boot/vmlinuz%00.txt',
        '/boot/%',
        '/./hosts.json',
        '/boot/escape',
        '/nocloud/worker1/vendor-data',
      ];
      for (const path of attempts) {
        const { answer } = await raw(s.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n\r\n`);
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        assert.ok(status === 400 || status === 404, `${path}: ${answer.split('\r\n')[0]}`);
        assert.ok(!answer.includes(OUTSIDE), `${path} leaked a file outside the tree`);
      }
      // Absolute-form and garbage request lines.
      for (const line of ['GET http://x/../outside.txt HTTP/1.1', 'GET outside.txt HTTP/1.1', 'GET /\u0001 HTTP/1.1']) {
        const { answer } = await raw(s.port, `${line}\r\nHost: 127.0.0.1:${s.port}\r\nConnection: close\r\n\r\n`);
        assert.match(answer, /^HTTP\/1\.1 (400|404) /, line);
      }
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/meta-data')).status, 200, 'still serving');
    } finally {
      await s.close();
    }
  });
});

test('reports: signed with the host\'s own key, fresh and once (401 unsigned or stale, 403 forged, replayed or another host\'s); malformed bodies are 400', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      const post = (path: string, body: string, headers: Record<string, string>): Promise<Reply> => call(s.port, 'POST', path, { headers, body });
      const boot = 'event=boot\n';
      assert.equal((await post('/report/cp1', boot, { 'Content-Type': 'text/plain' })).status, 401, 'unsigned');
      assert.equal((await post('/report/cp1', boot, { 'Content-Type': 'text/plain', Authorization: `Bearer ${key('cp1')}` })).status, 401, 'the key itself is no credential');
      assert.equal((await report(s.port, '/report/cp1', key('worker1'), boot)).status, 403, "worker1's key cannot report for cp1");
      assert.equal((await report(s.port, '/report/worker1', key('cp1'), boot)).status, 403, "a control plane's key cannot report for a worker");
      assert.equal((await report(s.port, '/report/cp1', '0'.repeat(64), boot)).status, 403);
      assert.equal((await report(s.port, '/report/cp9', key('cp1'), boot)).status, 404);
      // What is signed is what counts: another body, path or time under a valid signature is refused.
      const h = signedHeaders(key('cp1'), '/report/cp1', boot);
      assert.equal((await post('/report/cp1', 'event=start\nstep=base\n', h)).status, 403, 'another body');
      assert.equal((await post('/report/lb1', boot, h)).status, 403, 'another path');
      assert.equal((await post('/report/cp1', boot, { ...h, 'Kubebake-Time': String(Number(h['Kubebake-Time']) + 1) })).status, 403, 'another time');
      assert.equal((await post('/report/cp1', boot, { ...h, 'Content-Type': 'application/json' })).status, 415);
      // Stale or early by more than 300 s: 401 with the server's time, so a host with a wrong clock can sign again.
      const stale = await report(s.port, '/report/cp1', key('cp1'), boot, { time: Math.floor(Date.now() / 1000) - 301 });
      assert.equal(stale.status, 401);
      assert.ok(Math.abs(Number(stale.headers['kubebake-time']) - Date.now() / 1000) < 5, `server time ${stale.headers['kubebake-time']}`);
      assert.equal((await report(s.port, '/report/cp1', key('cp1'), boot, { time: Math.floor(Date.now() / 1000) + 301 })).status, 401);
      for (const bad of [{ 'Kubebake-Nonce': 'short' }, { 'Kubebake-Time': '-5' }, { 'Kubebake-Signature': 'Z'.repeat(64) }] as Record<string, string>[])
        assert.equal((await post('/report/cp1', boot, { ...signedHeaders(key('cp1'), '/report/cp1', boot), ...bad })).status, 401, JSON.stringify(bad));
      for (const body of ['', 'event=reboot\n', 'event=start\nstep=rm -rf /\n', 'event=start\n', 'hello\n', 'event=boot\nevent=boot\n', 'event=fail\nstep=crio\nrc=999\n', 'event=boot\n\u001b[2J', 'event=boot\n\u00ff'])
        assert.equal((await report(s.port, '/report/cp1', key('cp1'), body)).status, 400, JSON.stringify(body));
      assert.equal(s.status().hosts.find((x) => x.name === 'cp1')!.phase, 'waiting', 'refused reports change nothing');

      // A report read off the wire, sent again: refused, whenever within the window.
      const once = signedHeaders(key('cp1'), '/report/cp1', boot);
      assert.equal((await post('/report/cp1', boot, once)).status, 204);
      assert.equal((await post('/report/cp1', boot, once)).status, 403, 'replayed');
      assert.equal(s.status().hosts.find((x) => x.name === 'cp1')!.boots, 1);

      const ok = (body: string): Promise<void> => report(s.port, '/report/cp1', key('cp1'), body).then((r) => assert.equal(r.status, 204, body));
      await ok('event=boot\n');
      assert.equal(s.status().hosts.find((h) => h.name === 'cp1')!.phase, 'booting');
      await ok('event=start\nstep=resolver\n');
      await ok('event=end\nstep=resolver\n');
      await ok('event=start\nstep=base\n');
      let cp1 = s.status().hosts.find((h) => h.name === 'cp1')!;
      assert.equal(cp1.phase, 'running');
      assert.equal(cp1.stepIndex, 2);
      assert.ok(cp1.steps[0]!.startedAt && cp1.steps[0]!.endedAt);
      await ok('event=fail\nstep=base\nrc=1\nlog:\nReading package lists...\napt-get update failed: mirror unreachable: http://deb.debian.org\n');
      cp1 = s.status().hosts.find((h) => h.name === 'cp1')!;
      assert.equal(cp1.phase, 'failed');
      assert.equal(cp1.reason, 'base: apt-get update failed: mirror unreachable: http://deb.debian.org');
      assert.deepEqual(cp1.log, ['Reading package lists...', 'apt-get update failed: mirror unreachable: http://deb.debian.org']);
      assert.equal(cp1.steps[1]!.failedRc, 1);
      assert.equal(s.status().verdict, 'failed');
      // What a report carries is published unauthenticated: tokens and key material are hidden.
      await ok('event=fail\nstep=base\nrc=1\nlog:\nkubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:00\nMC4CAQAwBQYDK2VwBCIEIKubebakeTestOnlyNotARealKeyMaterialAAAAAAAA==\n');
      cp1 = s.status().hosts.find((h) => h.name === 'cp1')!;
      assert.deepEqual(cp1.log, ['kubeadm join 10.0.0.1:6443 --token <token hidden> --discovery-token-ca-cert-hash sha256:00', '(line not shown: it looks like key material)']);
      assert.doesNotMatch(JSON.stringify(s.status()), /abcdef\.0123456789abcdef|KubebakeTestOnly/);
    } finally {
      await s.close();
    }
  });
});

test('oversized bodies are 413 (announced: before reading; streamed: at the cap); the server keeps answering', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir, { bodyBytes: 1024 });
    try {
      const announced = await raw(s.port, `POST /report/cp1 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n${SIGNED}Content-Type: text/plain\r\nContent-Length: 100000000\r\n\r\nevent=boot\n`);
      assert.match(announced.answer, /^HTTP\/1\.1 413 /);
      const chunk = `${(2000).toString(16)}\r\n${'x'.repeat(2000)}\r\n`;
      const streamed = await raw(s.port, `POST /report/cp1 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n${SIGNED}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}0\r\n\r\n`);
      assert.match(streamed.answer, /^HTTP\/1\.1 413 /);
      const phone = await raw(s.port, `POST /phone-home/cp1 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n`, 5_000, ipOf('cp1'));
      assert.match(phone.answer, /^HTTP\/1\.1 413 /);
      const huge = await raw(s.port, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`);
      assert.match(huge.answer, /^HTTP\/1\.1 431 /, 'headers over 8 KiB');
      assert.equal((await report(s.port, '/report/cp1', key('cp1'), 'event=boot\n')).status, 204);
    } finally {
      await s.close();
    }
  });
});

test('slow clients: unfinished headers and bodies are cut off at their deadlines (408), others are still served', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir, { headersTimeoutMs: 500, requestTimeoutMs: 1000, checkIntervalMs: 100 });
    try {
      const headers = raw(s.port, `GET /nocloud/cp1/user-data HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n`, 10_000);
      const body = raw(s.port, `POST /report/cp1 HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n${SIGNED}Content-Type: text/plain\r\nContent-Length: 100\r\n\r\nevent=`, 10_000);
      // While the two stall, others are served.
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/user-data', { from: ipOf('cp1') })).status, 200);
      const [h, b] = await Promise.all([headers, body]);
      assert.ok(h.closedAfterMs < 3_000, `stalled headers kept for ${h.closedAfterMs} ms`);
      assert.match(h.answer, /^(HTTP\/1\.1 408 |$)/);
      assert.ok(b.closedAfterMs < 4_000, `stalled body kept for ${b.closedAfterMs} ms`);
      assert.match(b.answer, /^(HTTP\/1\.1 408 |$)/);
      assert.equal(s.status().hosts.find((x) => x.name === 'cp1')!.boots, 0, 'a cut-off report changes nothing');
    } finally {
      await s.close();
    }
  });
});

test('hostile requests write nothing outside serve-state/; the state file is replaced atomically (0600) and read back on restart', async () => {
  await withTempDir(async (dir) => {
    const { state } = makeCluster(dir);
    const before = snapshotDir(join(dir, 'cluster', 'pxe'));
    const outside = readFileSync(join(dir, 'cluster', 'outside.txt'), 'utf8');
    let s = await serve(dir, { bodyBytes: 1024 });
    await report(s.port, '/report/worker1', key('worker1'), 'event=start\nstep=crio\n');
    for (const path of ['/report/..%2f..%2foutside.txt', '/report/../../outside.txt', '/report/worker1/../../x', '/phone-home/../../outside.txt'])
      await raw(s.port, `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n${SIGNED}Content-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nevent=boot\n`);
    await raw(s.port, `PUT /nocloud/cp1/user-data HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Length: 4\r\nConnection: close\r\n\r\nevil`);
    await s.close();
    assert.deepEqual(snapshotDir(join(dir, 'cluster', 'pxe')), before, 'the PXE tree is unchanged');
    assert.equal(readFileSync(join(dir, 'cluster', 'outside.txt'), 'utf8'), outside);
    const cluster = snapshotDir(join(dir, 'cluster'));
    const written = [...cluster.keys()].filter((p) => p.startsWith('serve-state'));
    assert.deepEqual(written, ['serve-state', `serve-state/${STATE_FILE}`], 'only the state file, no temp left');
    assert.equal(statSync(join(state, STATE_FILE)).mode & 0o777, 0o600);

    s = await serve(dir);
    try {
      const w = s.status().hosts.find((h) => h.name === 'worker1')!;
      assert.equal(w.phase, 'running');
      assert.equal(w.steps[2]!.name, 'crio');
      assert.ok(w.steps[2]!.startedAt);
    } finally {
      await s.close();
    }
  });
});

test('phone_home (cloud-init form data) marks cloud-init finished, from the host\'s address only (403); a hostname that is not the host is 400', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      const lb1At = ipOf('lb1');
      assert.equal((await call(s.port, 'POST', '/phone-home/lb1', { headers: form, body: 'instance_id=lab-lb1&hostname=lb1' })).status, 403, 'not from its address');
      assert.equal((await call(s.port, 'POST', '/phone-home/lb1', { headers: form, body: 'instance_id=lab-lb1&hostname=lb1', from: ipOf('cp1') })).status, 403, "from another host's");
      assert.ok(!s.status().hosts.find((h) => h.name === 'lb1')!.cloudInitDoneAt);
      assert.equal((await call(s.port, 'POST', '/phone-home/lb1', { headers: form, body: 'instance_id=lab-lb1&hostname=cp1', from: lb1At })).status, 400);
      assert.equal((await call(s.port, 'POST', '/phone-home/lb1', { headers: { 'Content-Type': 'text/plain' }, body: 'hostname=lb1', from: lb1At })).status, 415);
      assert.equal((await call(s.port, 'POST', '/phone-home/lb1', { headers: form, body: 'instance_id=lab-lb1&hostname=lb1', from: lb1At })).status, 204);
      const lb = s.status().hosts.find((h) => h.name === 'lb1')!;
      assert.ok(lb.cloudInitDoneAt);
      assert.equal(lb.phase, 'booting');
      // cloud-init phones home once per instance: a repeat (anyone can post one) changes nothing.
      const first = lb.cloudInitDoneAt;
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await call(s.port, 'POST', '/phone-home/lb1', { headers: form, body: 'instance_id=lab-lb1&hostname=lb1', from: lb1At })).status, 204);
      assert.equal(s.status().hosts.find((h) => h.name === 'lb1')!.cloudInitDoneAt, first);
    } finally {
      await s.close();
    }
  });
});

test('events: a snapshot on connect, then each host change as it happens; /api/status is the same JSON', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      const events: { event: string; data: unknown }[] = [];
      let waiting: (() => void) | undefined;
      const res = await new Promise<IncomingMessage>((resolve) => get({ host: '127.0.0.1', port: s.port, path: '/events' }, resolve));
      assert.equal(res.headers['content-type'], 'text/event-stream');
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
          waiting?.();
        }
      });
      const next = (n: number): Promise<void> =>
        new Promise((resolve) => {
          waiting = () => events.length >= n && resolve();
          waiting();
        });
      await next(1);
      assert.equal(events[0]!.event, 'status');
      assert.deepEqual(events[0]!.data, JSON.parse((await call(s.port, 'GET', '/api/status')).body));
      await report(s.port, '/report/worker1', key('worker1'), 'event=fail\nstep=base\nrc=100\nlog:\nE: Unable to locate package cri-o\n');
      await next(2);
      const change = events[1]!.data as { host: { name: string; phase: string; reason: string }; verdict: string };
      assert.equal(events[1]!.event, 'host');
      assert.deepEqual([change.host.name, change.host.phase, change.host.reason, change.verdict], ['worker1', 'failed', 'base: E: Unable to locate package cri-o', 'failed']);
      res.destroy();
    } finally {
      await s.close();
    }
  });
});

test('a live page that does not read its events is disconnected at the buffer cap, not buffered without bound', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir, { eventBufferBytes: 64 * 1024 });
    try {
      const socket = createConnection({ host: '127.0.0.1', port: s.port });
      socket.setNoDelay(true);
      let closed = false;
      socket.on('error', () => undefined);
      socket.on('close', () => (closed = true));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`);
      socket.pause(); // never reads: the kernel's buffers fill, then the server's
      const log = Array.from({ length: 20 }, (_, i) => `line ${i} ${'x'.repeat(180)}`).join('\n');
      // Each event carries the host's whole state (~5 KiB): 2,000 of them overflow loopback's buffers
      // (a few MiB) and the cap. A paused socket does not see the server's reset until it reads again.
      for (let i = 0; i < 2000; i++)
        await report(s.port, '/report/cp1', key('cp1'), `event=fail\nstep=base\nrc=${i % 200}\nlog:\n${log}\n`);
      socket.resume();
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        socket.once('close', () => resolve(clearTimeout(timer)));
      });
      assert.ok(closed, 'the server still holds the connection of a page that never read');
      assert.equal((await call(s.port, 'GET', '/api/status')).status, 200, 'the server keeps answering');
    } finally {
      await s.close();
    }
  });
});

test('secret files go to their host\'s own address only; after it reported its last step not even there (410) until --reinstall; the rest to anyone', async () => {
  await withTempDir(async (dir) => {
    const { pxe } = makeCluster(dir);
    mkdirSync(join(pxe, 'preseed'));
    writeFileSync(join(pxe, 'preseed', 'cp1.cfg'), 'd-i preseed/late_command string true\n');
    mkdirSync(join(pxe, 'autoinstall', 'worker1'));
    writeFileSync(join(pxe, 'autoinstall', 'worker1', 'user-data'), '#cloud-config\nautoinstall: {version: 1}\n');
    let s = await serve(dir);
    const secretOf: Record<string, string[]> = {
      cp1: ['/nocloud/cp1/user-data', '/autoinstall/cp1.yaml', '/preseed/cp1.cfg'],
      worker1: ['/nocloud/worker1/user-data', '/autoinstall/worker1.yaml', '/autoinstall/worker1/user-data'],
      lb1: ['/nocloud/lb1/user-data', '/autoinstall/lb1.yaml'],
    };
    try {
      for (const [name, paths] of Object.entries(secretOf)) {
        for (const path of paths) {
          for (const from of ['127.0.0.1', ...HOSTS.filter((h) => h.name !== name).map((h) => h.ip)]) {
            for (const method of ['GET', 'HEAD']) {
              const r = await call(s.port, method, path, { from });
              assert.equal(r.status, 403, `${method} ${path} from ${from}`);
              assert.doesNotMatch(r.body, /of \w+\n|cloud-config|d-i/, 'nothing of the file');
            }
          }
          assert.equal((await call(s.port, 'GET', path, { from: ipOf(name) })).status, 200, `${path} from ${name}`);
        }
      }
      for (const path of ['/nocloud/cp1/meta-data', '/nocloud/cp1/network-config', '/nocloud/cp1/vendor-data', '/ipxe/52:54:00:20:00:11.ipxe', '/boot.ipxe', '/boot/vmlinuz', '/hosts.json', '/grub/grub.cfg'])
        assert.equal((await call(s.port, 'GET', path)).status, 200, `${path} from anyone`);
      assert.deepEqual(s.status().hosts.map((h) => h.sealedAt), [undefined, undefined, undefined]);

      // cp1 joins: its last step ends. From then on its seed goes to nobody, its own address included.
      const steps = HOSTS.find((h) => h.name === 'cp1')!.steps;
      for (const step of steps) for (const ev of ['start', 'end']) assert.equal((await report(s.port, '/report/cp1', key('cp1'), `event=${ev}\nstep=${step}\n`)).status, 204);
      assert.ok(s.status().hosts.find((h) => h.name === 'cp1')!.sealedAt);
      for (const path of secretOf.cp1!) {
        const r = await call(s.port, 'GET', path, { from: ipOf('cp1') });
        assert.equal(r.status, 410, path);
        assert.match(r.body, /cp1 joined .*: its seed is not served any more; re-arm it with kubebake serve --reinstall cp1/);
      }
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/meta-data', { from: ipOf('cp1') })).status, 200, 'meta-data still');
      assert.equal((await call(s.port, 'GET', '/nocloud/worker1/user-data', { from: ipOf('worker1') })).status, 200, 'other hosts unchanged');
      // A later boot or a step run again does not reopen it.
      await report(s.port, '/report/cp1', key('cp1'), 'event=boot\n');
      await report(s.port, '/report/cp1', key('cp1'), `event=start\nstep=${steps[0]}\n`);
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/user-data', { from: ipOf('cp1') })).status, 410);
    } finally {
      await s.close();
    }
    // A restart keeps the seal (the state file has it).
    s = await serve(dir);
    try {
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/user-data', { from: ipOf('cp1') })).status, 410);
    } finally {
      await s.close();
    }
    // The operator re-arms it: its seed is served to it again (and only to it).
    s = await serve(dir, {}, ['cp1']);
    try {
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/user-data', { from: ipOf('cp1') })).status, 200);
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/user-data')).status, 403);
      assert.equal(s.status().hosts.find((h) => h.name === 'cp1')!.sealedAt, undefined);
    } finally {
      await s.close();
    }
  });
});

test('GETs and phone_home never move a host towards "ready": only its signed report of its last step does', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir);
    try {
      const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
      for (const h of HOSTS) {
        for (const f of ['user-data', 'meta-data', 'network-config', 'vendor-data']) await call(s.port, 'GET', `/nocloud/${h.name}/${f}`, { from: h.ip });
        await call(s.port, 'GET', `/ipxe/${h.mac}.ipxe`, { from: h.ip });
        for (let i = 0; i < 3; i++) await call(s.port, 'POST', `/phone-home/${h.name}`, { headers: form, body: `instance_id=x&hostname=${h.name}`, from: h.ip });
      }
      for (const h of s.status().hosts) assert.notEqual(h.phase, 'done', h.name);
      assert.equal(s.status().verdict, 'in-progress');
      // Unsigned "reports" of the last step, from each host's own address: nothing.
      for (const h of HOSTS) await call(s.port, 'POST', `/report/${h.name}`, { headers: { 'Content-Type': 'text/plain' }, body: `event=end\nstep=${h.steps.at(-1)}\n`, from: h.ip });
      assert.equal(s.status().verdict, 'in-progress');
      for (const h of HOSTS) assert.equal((await report(s.port, `/report/${h.name}`, h.key, `event=end\nstep=${h.steps.at(-1)}\n`)).status, 204);
      assert.equal(s.status().verdict, 'ready');
    } finally {
      await s.close();
    }
  });
});

test('the Host header must name this server (DNS rebinding): delivery.server\'s name, or the address listened on (421 otherwise)', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir, {}, undefined, { serverUrl: 'http://pxe.lab.example:8080' });
    try {
      const status = async (host: string | undefined): Promise<number> => {
        const { answer } = await raw(s.port, `GET /api/status HTTP/1.1\r\n${host === undefined ? '' : `Host: ${host}\r\n`}Connection: close\r\n\r\n`);
        return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
      };
      for (const ok of ['pxe.lab.example:8080', 'PXE.lab.example:8080', 'pxe.lab.example', `127.0.0.1:${s.port}`, '127.0.0.1', `localhost:${s.port}`]) assert.equal(await status(ok), 200, ok);
      for (const bad of ['evil.example', `evil.example:${s.port}`, 'pxe.lab.example.evil.example:8080', 'lab.example', `127.0.0.2:${s.port}`, `127.0.0.1.evil.example:${s.port}`, `127.0.0.1:${s.port}.evil.example`, 'a b', ''])
        assert.equal(await status(bad), 421, JSON.stringify(bad));
      // Secret files and reports too, before anything else.
      const r = await raw(s.port, `GET /nocloud/cp1/user-data HTTP/1.1\r\nHost: rebound.example:${s.port}\r\nConnection: close\r\n\r\n`, 5_000, ipOf('cp1'));
      assert.match(r.answer, /^HTTP\/1\.1 421 /);
      assert.ok(!r.answer.includes('user-data of cp1'));
      // HTTP/1.0 without a Host header is no browser's request (a browser always names the site): answered.
      const old = await raw(s.port, 'GET /api/status HTTP/1.0\r\n\r\n');
      assert.match(old.answer, /^HTTP\/1\.1 200 /);
    } finally {
      await s.close();
    }
  });
});

test('one client address cannot take the live pages or the sockets: per-address caps, idle sockets closed; others are still served', { timeout: 60_000 }, async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir, { idleSocketMs: 1_000, headersTimeoutMs: 10_000, requestTimeoutMs: 20_000 });
    const sockets: Socket[] = [];
    const open = (from: string, text?: string): Promise<Socket> =>
      new Promise((resolve) => {
        const sock = createConnection({ host: '127.0.0.1', port: s.port, localAddress: from }, () => {
          if (text) sock.write(text);
          resolve(sock);
        });
        sock.on('error', () => undefined);
        sock.on('data', () => undefined);
        sockets.push(sock);
      });
    const closed = (sock: Socket): boolean => sock.destroyed || sock.readyState === 'closed' || sock.readableEnded;
    try {
      // 100 live pages from one address (a tab left open a hundred times, or an attacker).
      const pages = await Promise.all(Array.from({ length: 100 }, () => open('127.0.9.1', `GET /events HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\n\r\n`)));
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(pages.filter((p) => !closed(p)).length <= 16, `${pages.filter((p) => !closed(p)).length} sockets held from one address`);
      // 100 idle sockets from another address.
      const idle = await Promise.all(Array.from({ length: 100 }, () => open('127.0.9.2')));
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(idle.filter((p) => !closed(p)).length <= 16, `${idle.filter((p) => !closed(p)).length} idle sockets held from one address`);
      // The operator's page and the hosts' reports still get through.
      const page = await new Promise<IncomingMessage>((resolve) => get({ host: '127.0.0.1', port: s.port, path: '/events', localAddress: '127.0.9.3' }, resolve));
      assert.equal(page.statusCode, 200, 'a live page from another address');
      page.destroy();
      assert.equal((await report(s.port, '/report/cp1', key('cp1'), 'event=boot\n')).status, 204);
      assert.equal((await call(s.port, 'GET', '/nocloud/cp1/user-data', { from: ipOf('cp1') })).status, 200);
      // The idle sockets are closed after idleSocketMs.
      await new Promise((r) => setTimeout(r, 2_500));
      assert.equal(idle.filter((p) => !closed(p)).length, 0, 'idle sockets still open');
    } finally {
      for (const sock of sockets) sock.destroy();
      await s.close();
    }
  });
});

test('a live page\'s event stream is ended after eventStreamMs (the page reconnects by itself): none is held for ever', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    const s = await serve(dir, { eventStreamMs: 300 });
    try {
      const started = Date.now();
      const res = await new Promise<IncomingMessage>((resolve) => get({ host: '127.0.0.1', port: s.port, path: '/events' }, resolve));
      assert.equal(res.statusCode, 200);
      res.resume();
      const ended = await new Promise<number>((resolve) => {
        const timer = setTimeout(() => resolve(Infinity), 5_000);
        res.on('end', () => resolve((clearTimeout(timer), Date.now() - started)));
      });
      assert.ok(ended < 2_000, `stream held ${ended} ms`);
    } finally {
      await s.close();
    }
  });
});
