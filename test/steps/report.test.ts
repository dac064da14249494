// The report hook (src/steps/sh/report.sh) run by bash as the runner runs a step (the library
// sourced with the step's name as $0), against a listener that records the bytes it gets: the
// requests, exactly; the log a failure carries (the last lines, cut, printable ASCII only); and
// silence where the hook must stay out (a script not in the step list, no settings file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { shellFile } from '../../src/steps/sh/template.js';
import { withTempDir } from '../helpers/tmp.js';

/** A listener that answers every connection with a 204 and records what it was sent. */
async function listener(): Promise<{ port: number; requests: string[]; close: () => void }> {
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
        socket.end('HTTP/1.0 204 No Content\r\n\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, requests, close: () => server.close() };
}

/** The hook with its paths under `dir`, the host's settings, a step list (s1, s2) and a log. */
function install(dir: string, port: number): { lib: string; log: string; conf: string } {
  mkdirSync(join(dir, 'etc'));
  const paths = { lib: join(dir, 'lib.sh'), log: join(dir, 'firstboot.log'), conf: join(dir, 'etc', 'report') };
  writeFileSync(paths.lib, `${shellFile('report.sh', {
    CONF: paths.conf, LOG: paths.log, LOG_LINES: 20, LINE_CHARS: 300, STEP_LIST: join(dir, 'etc', 'steps'), BOOTED: join(dir, 'booted'),
  })}\n`);
  writeFileSync(paths.conf, `REPORT_ADDR=127.0.0.1\nREPORT_PORT=${port}\nREPORT_PATH=/report/h1\nREPORT_KEY=k123\n`);
  writeFileSync(join(dir, 'etc', 'steps'), 's1\ns2\n');
  return paths;
}

/** Runs `code` as the runner runs a step: bash -euo pipefail, the library first, $0 the step's name. */
function step(lib: string, name: string, code: string): Promise<number | null> {
  const child = spawn('bash', ['-euo', 'pipefail', '-c', `. "$1"; ${code}`, name, lib], { stdio: 'ignore', timeout: 30_000 });
  return new Promise((resolve) => child.on('exit', resolve));
}

const request = (body: string): string =>
  `POST /report/h1 HTTP/1.0\r\nAuthorization: Bearer k123\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

test('a boot reports "boot" once; each step its start and its end, or its failure with rc and the log', async () => withTempDir(async (dir) => {
  const server = await listener();
  try {
    const { lib, log } = install(dir, server.port);
    assert.equal(await step(lib, 's1', 'true'), 0);
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
    writeFileSync(log, [...lines, '', '   ', `${'x'.repeat(400)}`, 'caf\u00e9\tok\u0007', ''].join('\n'));
    assert.equal(await step(lib, 's2', 'exit 7'), 7, 'the step\'s own status is kept');
    const logBody = [...lines.slice(-18), 'x'.repeat(300), 'caf\tok'].join('\n');
    assert.deepEqual(server.requests, [
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
