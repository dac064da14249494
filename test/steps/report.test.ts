// The report hook (src/steps/sh/report.sh) run by bash as the runner runs a step (the library
// sourced with the step's name as $0), against a listener that records the bytes it gets: the
// requests, exactly; their HMAC-SHA256 signatures, checked here with node:crypto (fresh nonces,
// the host's time, the server's time after a 401 that gives it); that no process ever runs with
// the key or the body in its argv; the log a failure carries (the last lines, cut, printable
// ASCII only); and silence where the hook must stay out (a script not in the step list, no
// settings file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { shellFile } from '../../src/steps/sh/template.js';
import { withTempDir } from '../helpers/tmp.js';

const KEY = '36'.repeat(8) + '5c'.repeat(8) + '00ff17a9'.repeat(4); // bytes that turn into NUL under ipad and opad

/** A listener that answers every connection with `answer` (a 204 unless given) and records what it was sent. */
async function listener(answer: (n: number) => string = () => 'HTTP/1.0 204 No Content\r\n\r\n'): Promise<{ port: number; requests: string[]; close: () => void }> {
  const requests: string[] = [];
  const server = createServer((socket) => {
    let got = '';
    socket.setEncoding('latin1');
    // The hook reads 9 bytes of the answer and hangs up: a reset, not an error of the test.
    socket.on('error', () => {});
    socket.on('data', (d: string) => {
      got += d;
      const head = got.indexOf('\r\n\r\n');
      const length = /Content-Length: (\d+)\r\n/.exec(got);
      if (head >= 0 && length && got.length >= head + 4 + Number(length[1])) {
        requests.push(got);
        socket.end(answer(requests.length));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, requests, close: () => server.close() };
}

/** The hook with its paths under `dir`, the host's settings, a step list (s1, s2) and a log. */
function install(dir: string, port: number): { lib: string; log: string; conf: string } {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const paths = { lib: join(dir, 'lib.sh'), log: join(dir, 'firstboot.log'), conf: join(dir, 'etc', 'report') };
  writeFileSync(paths.lib, `${shellFile('report.sh', {
    CONF: paths.conf, LOG: paths.log, LOG_LINES: 20, LINE_CHARS: 300, STEP_LIST: join(dir, 'etc', 'steps'), BOOTED: join(dir, 'booted'),
  })}\n`);
  writeFileSync(paths.conf, `REPORT_ADDR=127.0.0.1\nREPORT_PORT=${port}\nREPORT_PATH=/report/h1\nREPORT_KEY=${KEY}\n`);
  writeFileSync(join(dir, 'etc', 'steps'), 's1\ns2\n');
  return paths;
}

/** Runs `code` as the runner runs a step: bash -euo pipefail, the library first, $0 the step's name. */
function step(lib: string, name: string, code: string): Promise<number | null> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', `. "$1"; ${code}`, name, lib], { stdio: 'ignore', timeout: 30_000 });
  return new Promise((resolve) => child.on('exit', resolve));
}

/** A request as the hook must send it, its signature headers as given. */
const request = (body: string, sig = { time: 'T', nonce: 'N', signature: 'S' }): string =>
  `POST /report/h1 HTTP/1.0\r\nHost: 127.0.0.1:PORT\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
  `Kubebake-Time: ${sig.time}\r\nKubebake-Nonce: ${sig.nonce}\r\nKubebake-Signature: ${sig.signature}\r\n\r\n${body}`;

/**
 * The requests with their signature headers checked (RFC 2104 HMAC-SHA256 by node:crypto over
 * method, path, time, nonce and body, one per line) and replaced by T/N/S, the port by PORT;
 * with the times they carried.
 */
function checked(requests: string[], port: number): { requests: string[]; times: number[] } {
  const nonces = new Set<string>();
  const times: number[] = [];
  const out = requests.map((r) => {
    const header = (name: string): string => new RegExp(`\r\n${name}: ([^\r]*)\r\n`).exec(r)?.[1] ?? assert.fail(`no ${name} in ${JSON.stringify(r)}`);
    const [time, nonce, signature] = [header('Kubebake-Time'), header('Kubebake-Nonce'), header('Kubebake-Signature')];
    const body = r.slice(r.indexOf('\r\n\r\n') + 4);
    assert.match(time, /^[0-9]+$/);
    assert.match(nonce, /^[0-9a-f]{32}$/);
    assert.ok(!nonces.has(nonce), 'a fresh nonce for each request');
    nonces.add(nonce);
    const want = createHmac('sha256', Buffer.from(KEY, 'hex')).update(`POST\n/report/h1\n${time}\n${nonce}\n${body}`).digest('hex');
    assert.equal(signature, want, `signature of ${JSON.stringify(body)}`);
    times.push(Number(time));
    return r
      .replace(`Kubebake-Time: ${time}\r`, 'Kubebake-Time: T\r')
      .replace(`Kubebake-Nonce: ${nonce}\r`, 'Kubebake-Nonce: N\r')
      .replace(`Kubebake-Signature: ${signature}\r`, 'Kubebake-Signature: S\r')
      .replace(`Host: 127.0.0.1:${port}\r`, 'Host: 127.0.0.1:PORT\r');
  });
  return { requests: out, times };
}

test('a boot reports "boot" once; each step its start and its end, or its failure with rc and the log', async () => withTempDir(async (dir) => {
  const server = await listener();
  try {
    const { lib, log } = install(dir, server.port);
    assert.equal(await step(lib, 's1', 'true'), 0);
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
    writeFileSync(log, [...lines, '', '   ', `${'x'.repeat(400)}`, 'caf\u00e9\tok\u0007', ''].join('\n'));
    assert.equal(await step(lib, 's2', 'exit 7'), 7, 'the step\'s own status is kept');
    const logBody = [...lines.slice(-18), 'x'.repeat(300), 'caf\tok'].join('\n');
    const { requests, times } = checked(server.requests, server.port);
    const now = Date.now() / 1000;
    assert.ok(times.every((t) => Math.abs(t - now) < 60), `the host's own clock: ${times.join(' ')}`);
    assert.deepEqual(requests, [
      request('event=boot\nstep=\nrc='),
      request('event=start\nstep=s1\nrc='),
      request('event=end\nstep=s1\nrc='),
      request('event=start\nstep=s2\nrc='),
      request(`event=fail\nstep=s2\nrc=7\nlog:\n${logBody}`),
    ]);
  } finally {
    server.close();
  }
}));

test('nothing is sent for a script that is not a listed step, nor without the settings file', async () => withTempDir(async (dir) => {
  const server = await listener();
  try {
    const { lib, conf } = install(dir, server.port);
    // Not a step, nor a name a step's line merely contains.
    for (const other of ['label-nodes', 's', '1']) assert.equal(await step(lib, other, 'true'), 0);
    rmSync(conf);
    assert.equal(await step(lib, 's1', 'true'), 0);
    assert.deepEqual(server.requests, []);
  } finally {
    server.close();
  }
}));

test('a host whose clock is off signs once more with the time of the server\'s 401; other refusals are not retried', async () => withTempDir(async (dir) => {
  const skewed = await listener((n) => (n === 1 ? 'HTTP/1.0 401 Unauthorized\r\nContent-Type: text/plain\r\nkubebake-time: 1234567890\r\nConnection: close\r\n\r\nstale\n' : 'HTTP/1.0 204 No Content\r\n\r\n'));
  try {
    const { lib } = install(join(dir, 'a'), skewed.port);
    assert.equal(await step(lib, 'other', 'report start s1'), 0);
    const { requests, times } = checked(skewed.requests, skewed.port);
    assert.equal(requests.length, 2);
    assert.equal(requests[0], requests[1], 'the same report');
    assert.notEqual(times[0], 1234567890);
    assert.equal(times[1], 1234567890, "signed with the server's time");
  } finally {
    skewed.close();
  }
  for (const answer of ['HTTP/1.0 403 Forbidden\r\n\r\n', 'HTTP/1.0 401 Unauthorized\r\n\r\n', 'HTTP/1.0 401 Unauthorized\r\nKubebake-Time: soon\r\n\r\n']) {
    const refusing = await listener(() => answer);
    try {
      const { lib } = install(join(dir, `r${refusing.port}`), refusing.port);
      assert.equal(await step(lib, 'other', 'report start s1'), 0);
      assert.equal(refusing.requests.length, 1, JSON.stringify(answer));
    } finally {
      refusing.close();
    }
  }
}));

test('no program the hook runs ever has the key or the body in its argv or environment', async () => withTempDir(async (dir) => {
  // The hook's PATH holds only wrappers that record their argv and environment before running the
  // real tool: a program the hook runs that is not here fails the report (and this test).
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const seen = join(dir, 'seen');
  for (const tool of ['od', 'tr', 'sha256sum', 'sleep', 'grep', 'tail', 'cut', 'cat', 'head', 'timeout', 'bash', 'openssl']) {
    const real = ['/usr/bin', '/bin'].map((d) => join(d, tool)).find((p) => { try { return readFileSync(p).length > 0; } catch { return false; } });
    if (!real) continue;
    writeFileSync(join(bin, tool), `#!/bin/bash\n{ printf '%s\\n' "$0" "$@"; env; } >> ${seen}\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  // Slow to answer, so the hook's processes are there to be seen in /proc meanwhile.
  const server = await listener();
  const slow = createServer((socket) => {
    socket.on('error', () => {});
    socket.on('data', () => setTimeout(() => socket.end('HTTP/1.0 204 No Content\r\n\r\n'), 1500));
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
  server.close();
  try {
    const { lib, log } = install(dir, (slow.address() as { port: number }).port);
    writeFileSync(log, 'MARKER-IN-THE-LOG\n');
    const child = spawn('/bin/bash', ['-euo', 'pipefail', '-c', `. "$1"; report fail s2 3`, 's9', lib], { stdio: 'ignore', env: { PATH: bin } });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const cmdlines = new Set<string>();
    let done = false;
    void exited.then(() => (done = true));
    while (!done) {
      for (const pid of readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p))) {
        try {
          cmdlines.add(readFileSync(`/proc/${pid}/cmdline`, 'latin1'));
        } catch { /* gone */ }
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    const recorded = readFileSync(seen, 'latin1');
    for (const secret of [KEY, 'MARKER-IN-THE-LOG', 'event=fail']) {
      assert.ok(!recorded.includes(secret), `${secret} in a program's argv or environment`);
      assert.ok(![...cmdlines].some((c) => c.includes(secret)), `${secret} in /proc/*/cmdline`);
    }
    assert.match(recorded, /sha256sum/, 'the wrappers saw the hook run');
    assert.ok([...cmdlines].some((c) => c.includes('report fail s2 3')), 'the hook\'s bash was seen in /proc');
  } finally {
    slow.close();
  }
}));
