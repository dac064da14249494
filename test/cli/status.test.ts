// `kubebake status` against a server that is not kubebake's (or a kubebake serve that was
// tampered with): a fake /api/status on 127.0.0.1. Whatever the server says reaches the terminal
// escaped, and an answer of the wrong shape is exit 1 with a message, never a crash (exit 70).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runKubebakeAsync } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';

const PXE = repoPath('profiles', 'pxe.yaml'); // cluster "metal"

/** Serves `body` (a string, sent as is) at /api/status; returns its URL and a stop function. */
async function fakeServe(body: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/api/status') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => server.close(() => r())) };
}

async function status(body: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const s = await fakeServe(body);
  try {
    return await runKubebakeAsync(['status', '-f', PXE, '--server', s.url, ...args]);
  } finally {
    await s.stop();
  }
}

/** Terminal controls a hostile server might send: CSI (C0 ESC [ and C1 U+009B), OSC (title), BEL, line breaks, bidi overrides. */
const HOSTILE = ['\u001b[2J', '\u001b]0;pwned\u0007', '\u009b31m', '\r', '\n', '\u2028', '\u202e', '\u0085'];
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const host = (fields: Record<string, unknown>): Record<string, unknown> => ({
  name: 'cp1', role: 'control-plane', ip: '10.0.0.1', phase: 'running', stepIndex: 1, steps: [{ name: 'base' }], log: [], seedFiles: [], boots: 1, install: 'installed', ...fields,
});

test('status: every field a server sends is printed with its control characters escaped, as text and as --json', async () => {
  const evil = HOSTILE.join('');
  const body = JSON.stringify({
    cluster: 'metal',
    verdict: 'in-progress',
    hosts: [
      host({ name: `cp1${evil}`, role: `control-plane${evil}`, install: `x${evil}`, steps: [{ name: `base${evil}` }] }),
      host({ name: 'worker1', role: 'worker', phase: 'failed', reason: `E: ${evil}` }),
      host({ name: 'worker2', role: 'worker', phase: `odd${evil}` }),
      // Keys an object inherits are no labels or colours: shown as given.
      host({ name: 'worker3', role: 'worker', phase: 'constructor', install: 'constructor' }),
    ],
  });
  const r = await status(body);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').slice(0, -1);
  assert.equal(lines.length, 5, r.stdout);
  for (const line of lines) assert.doesNotMatch(line, RAW, JSON.stringify(line));
  assert.match(r.stdout, /cp1\\x1b\[2J\\x1b\]0;pwned\\x07\\x9b31m\\r\\n\\u\{2028\}\\u\{202e\}\\x85/);
  assert.match(r.stdout, /step 1\/1: base\\x1b\[2J/);
  assert.match(r.stdout, /failed: E: \\x1b/);
  assert.match(r.stdout, /^ {2}worker3 +worker +constructor +\[-+\] +0\/1 +constructor$/m);

  const json = await status(body, '--json');
  assert.equal(json.status, 0, json.stderr);
  assert.doesNotMatch(json.stdout, RAW);
  assert.deepEqual(JSON.parse(json.stdout), JSON.parse(body), 'the JSON reads back as the server sent it');
});

test('status: a joined host whose seed serve no longer hands out says so; a host that has not joined does not', async () => {
  const body = JSON.stringify({
    cluster: 'metal',
    verdict: 'in-progress',
    hosts: [host({ phase: 'done', steps: [{ name: 'base', startedAt: 't', endedAt: 't' }], sealedAt: '2026-12-05T21:00:00.000Z' }), host({ name: 'worker1', role: 'worker' })],
  });
  const r = await status(body);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}cp1 .* joined  \(seed sealed\)$/m);
  assert.match(r.stdout, /^ {2}worker1 .*step 1\/1: base$/m);
});

test('status: an answer that is not a kubebake serve status is exit 1 with a message, never a crash', async () => {
  const cases: [string, string][] = [
    ['not JSON', 'the answer is not JSON'],
    ['[]', 'not an object'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready' }), 'no host list'],
    [JSON.stringify({ cluster: 'metal', verdict: 'done', hosts: [] }), 'no known verdict'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready', hosts: [null] }), 'hosts[0] is not an object'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready', hosts: [host({ name: 7 })] }), 'hosts[0].name is not a string'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready', hosts: [host({ steps: 'all' })] }), 'hosts[0].steps is not a list'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready', hosts: [host({ steps: [null] })] }), 'hosts[0].steps[0] is not a step'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready', hosts: [host({ stepIndex: '1' })] }), 'hosts[0].stepIndex is not a whole number'],
    [JSON.stringify({ cluster: 'metal', verdict: 'failed', hosts: [host({ phase: 'failed', reason: { x: 1 } })] }), 'hosts[0].reason is not a string'],
    [JSON.stringify({ cluster: 'metal', verdict: 'ready', hosts: [host({ install: null })] }), 'hosts[0].install is not a string'],
  ];
  for (const [body, why] of cases) {
    for (const args of [[], ['--json'], ['--wait', '--timeout', '1s']]) {
      const r = await status(body, ...args);
      assert.equal(r.status, 1, `${body} ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(`not a kubebake serve status (${why})`) || (why === 'the answer is not JSON' && r.stderr.includes(why)), `${body}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+|TypeError/, 'no stack trace');
    }
  }
  // Another cluster's server: named escaped.
  const other = await status(JSON.stringify({ cluster: 'evil\u001b[2J', verdict: 'ready', hosts: [] }));
  assert.equal(other.status, 1);
  assert.match(other.stderr, /serves cluster "evil\\\\x1b\[2J", not metal/);
});
