// The host side of progress reports, run for real: the first-boot runner and helper library as
// rendered for a host of the default profile with delivery.server set (only their paths moved
// into a temp folder), stand-in step scripts, and `kubebake serve` listening on 127.0.0.1. The
// runner's own outcome must not change, and a server that is down or never answers must cost a
// bounded time and nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { buildHostManifests, type HostManifest } from '../../src/manifest/host-manifest.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { reportKey } from '../../src/plan/report-keys.js';
import { startServer, type RunningServer } from '../../src/serve/server.js';
import { renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, shellcheck } from '../helpers/tools.js';

const base = profile('default');
async function manifests(server: string): Promise<{ manifests: HostManifest[]; reportSecret: string }> {
  const plan = await renderPlan({ ...base, delivery: { ...base.delivery, server } });
  return { manifests: buildHostManifests(plan, plan.secrets), reportSecret: plan.secrets.reportSecret };
}

/** Host paths → folders under `dir` (longest first, so /var/lib/kubebake is not cut by /var/lib). */
function relocate(dir: string): (text: string) => string {
  const moves: [string, string][] = [
    [HOST_PATHS.scriptDir, join(dir, 'lib')],
    [HOST_PATHS.stateDir, join(dir, 'state')],
    [HOST_PATHS.configDir, join(dir, 'etc')],
    ['/var/log/kubebake', join(dir, 'log')],
    [HOST_PATHS.reportBooted, join(dir, 'booted')],
  ];
  return (text) => moves.reduce((t, [from, to]) => t.split(from).join(to), text);
}

/** Writes the host's runtime (runner, library, report settings, step list) under `dir` and stand-in steps. */
function installHost(dir: string, m: HostManifest, steps: Record<string, string>, port: number): string {
  const move = relocate(dir);
  for (const sub of ['lib', 'state', 'etc', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  for (const f of m.files) {
    if (!([HOST_PATHS.firstboot, HOST_PATHS.library, HOST_PATHS.reportConfig, HOST_PATHS.stepList] as string[]).includes(f.path)) continue;
    const content = f.path === HOST_PATHS.reportConfig ? f.content.replace(/^REPORT_PORT=.*$/m, `REPORT_PORT=${port}`) : move(f.content);
    writeFileSync(move(f.path), content, { mode: Number.parseInt(f.mode, 8) });
  }
  for (const s of m.steps) writeFileSync(join(dir, 'lib', `${s.name}.sh`), steps[s.name] ?? 'echo done\n');
  return move(HOST_PATHS.firstboot);
}

/** Runs the runner in the background (the server answers in this process meanwhile). */
function runRunner(runner: string): Promise<{ status: number | null; seconds: number }> {
  const started = Date.now();
  const child = spawn('bash', [runner], { stdio: 'ignore', timeout: 120_000 });
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, seconds: (Date.now() - started) / 1000 })));
}

async function serveFor(ms: HostManifest[], reportSecret: string, dir: string): Promise<RunningServer> {
  const hosts = ms.map((m) => ({ name: m.node.name, role: m.node.role, ip: m.node.ip, steps: m.steps.map((s) => s.name), key: reportKey(reportSecret, m.node.name) }));
  return startServer({ cluster: 'default', hosts, pxeRoot: join(dir, 'pxe'), stateDir: join(dir, 'serve-state'), limits: { saveDelayMs: 10 } }, { host: '127.0.0.1', port: 0 });
}

test('with delivery.server the library reports each step (and the boot); without it no byte of reporting is rendered', async () => {
  const withServer = await manifests('http://10.20.0.5:8080');
  const without = buildHostManifests(await renderPlan(base), (await renderPlan(base)).secrets);
  for (const [i, m] of withServer.manifests.entries()) {
    const plain = without[i]!;
    // The library (with the hook) and the host's key, both in its user-data.
    const extra = m.files.filter((f) => !plain.files.some((p) => p.path === f.path && p.content === f.content));
    assert.deepEqual(extra.map((f) => f.path).sort(), [HOST_PATHS.library, HOST_PATHS.reportConfig].sort(), m.node.name);
    assert.ok(!plain.files.some((f) => /report/.test(f.path) || f.content.includes('report()')), `${m.node.name}: reporting without a server`);
    assert.equal(plain.phoneHome, undefined);
    assert.equal(m.phoneHome, `http://10.20.0.5:8080/phone-home/${m.node.name}`);
    const conf = m.files.find((f) => f.path === HOST_PATHS.reportConfig)!;
    assert.equal(conf.mode, '0600');
    // Its own key, and no other host's.
    assert.ok(conf.content.includes(`REPORT_KEY=${reportKey(withServer.reportSecret, m.node.name)}`));
    for (const other of withServer.manifests) if (other !== m) assert.ok(!m.files.some((f) => f.content.includes(reportKey(withServer.reportSecret, other.node.name))));
    assert.ok(!m.files.some((f) => f.content.includes(withServer.reportSecret)), 'the report secret itself never leaves the store');
  }
});

test('the library with the report hook passes shellcheck', { skip: missingTools('shellcheck') }, async () => {
  const { manifests: ms } = await manifests('http://10.20.0.5:8080');
  const lib = ms[0]!.files.find((f) => f.path === HOST_PATHS.library)!.content;
  assert.equal(shellcheck({ 'lib.sh': `#!/bin/bash\n${lib}` }), '');
});

test('the real runner reports start, end and failure with the log to kubebake serve; its own outcome is unchanged', async () => {
  await withTempDir(async (dir) => {
    const { manifests: ms, reportSecret } = await manifests('http://127.0.0.1:8080');
    const server = await serveFor(ms, reportSecret, dir);
    try {
      const worker = ms.find((m) => m.node.name === 'worker1')!;
      const steps = worker.steps.map((s) => s.name);
      const failing = { [steps[1]!]: 'echo "Reading package lists..."\necho "apt-get update failed: mirror unreachable: http://deb.debian.org" >&2\nexit 100\n' };
      const runner = installHost(join(dir, 'host'), worker, failing, server.port);
      const first = await runRunner(runner);
      assert.equal(first.status, 1, 'the runner still fails the failed step');
      assert.equal(readFileSync(join(dir, 'host', 'state', 'status'), 'utf8'), `failed: ${steps[1]}: apt-get update failed: mirror unreachable: http://deb.debian.org\n`);
      let w = server.status().hosts.find((h) => h.name === 'worker1')!;
      assert.equal(w.phase, 'failed');
      assert.equal(w.boots, 1);
      assert.equal(w.reason, `${steps[1]}: apt-get update failed: mirror unreachable: http://deb.debian.org`);
      assert.deepEqual(w.log.slice(-2), ['Reading package lists...', 'apt-get update failed: mirror unreachable: http://deb.debian.org']);
      assert.ok(w.steps[0]!.startedAt && w.steps[0]!.endedAt && w.steps[0]!.failedRc === undefined);
      assert.equal(w.steps[1]!.failedRc, 100);

      // Fixed and run again (as after a reboot, without one): resumes, reports each remaining step, ends joined.
      writeFileSync(join(dir, 'host', 'lib', `${steps[1]}.sh`), 'echo fixed\n');
      const second = await runRunner(runner);
      assert.equal(second.status, 0);
      w = server.status().hosts.find((h) => h.name === 'worker1')!;
      assert.equal(w.phase, 'done');
      assert.equal(w.stepIndex, steps.length);
      assert.ok(w.steps.every((s) => s.startedAt && s.endedAt && s.failedRc === undefined));
      assert.equal(w.boots, 1, 'one boot, one boot report');
    } finally {
      await server.close();
    }
  });
});

test('a server that is down or never answers costs at most 3 s a report; the boot goes on', { timeout: 120_000 }, async () => {
  await withTempDir(async (dir) => {
    const { manifests: ms } = await manifests('http://127.0.0.1:8080');
    const worker = ms.find((m) => m.node.name === 'worker1')!;
    const silent: Socket[] = [];
    const blackhole = createServer((s) => void silent.push(s)); // accepts, reads, never answers
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const port = (blackhole.address() as { port: number }).port;
    try {
      // Two steps: five reports (boot, and start + end of each).
      const two = { ...worker, steps: worker.steps.slice(0, 2), files: worker.files.map((f) => (f.path === HOST_PATHS.stepList ? { ...f, content: worker.steps.slice(0, 2).map((s) => `${s.name}\n`).join('') } : f)) };
      const hung = await runRunner(installHost(join(dir, 'hung'), two, {}, port));
      assert.equal(hung.status, 0);
      assert.ok(hung.seconds < 5 * 3 + 5, `${hung.seconds} s`);
      assert.ok(silent.length >= 5, `${silent.length} connections`);
      blackhole.close();
      for (const s of silent) s.destroy();
      const refused = await runRunner(installHost(join(dir, 'refused'), two, {}, port));
      assert.equal(refused.status, 0);
      assert.ok(refused.seconds < 5, `${refused.seconds} s with nothing listening`);
    } finally {
      blackhole.close();
    }
  });
});
