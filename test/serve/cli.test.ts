// `kubebake serve` and `kubebake status` as an operator runs them, on a cluster rendered with the
// PXE tree (profiles/pxe.yaml): every file hosts.json lists is served as written, nothing else;
// status prints bars without colour codes when not on a terminal, and JSON with --json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOCK_FILE } from '../../src/output/lock.js';
import { reportKey } from '../../src/plan/report-keys.js';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { call, report, startServeCli } from '../helpers/serve.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, run, tempFiles } from '../helpers/tools.js';

const PXE = repoPath('profiles', 'pxe.yaml');
const BOOT_SCRIPT = /^(ipxe\/.*\.ipxe|grub\/grub\.cfg-.*)$/;
/** The files that carry a host's secrets: served to that host's address only (test/serve/netns.test.ts serves them). */
const SECRET_FILE = /^(nocloud\/[^/]+\/user-data|autoinstall\/[^/]+\.yaml|autoinstall\/[^/]+\/user-data|preseed\/[^/]+\.cfg)$/;

test('serve: every file of the rendered PXE tree that hosts.json lists is served byte for byte, those with secrets to their host only; status shows a report; SIGTERM stops it cleanly', { timeout: 120_000 }, async () => {
  await withTempDir(async (out) => {
    const r = runKubebake(['render', 'cloud-init', '-f', PXE, '-o', out, '--delivery', 'pxe']);
    assert.equal(r.status, 0, r.stderr);
    const pxe = join(out, 'metal', 'pxe');
    const index = JSON.parse(readFileSync(join(pxe, 'hosts.json'), 'utf8')) as { hosts: Record<string, { files: string[] }>; shared: string[] };
    const s = await startServeCli(PXE, out);
    try {
      const files = [...index.shared, ...Object.values(index.hosts).flatMap((h) => h.files)];
      assert.ok(files.length > 20, `${files.length} files`);
      const secret = readFileSync(join(out, 'metal', 'secrets', 'report.secret'), 'utf8').trim();
      const token = readFileSync(join(out, 'metal', 'secrets', 'token'), 'utf8').trim();
      const keys = Object.keys(index.hosts).map((h) => reportKey(secret, h));
      let refused = 0;
      for (const f of files) {
        const got = await call(s.port, 'GET', `/${f}`);
        if (SECRET_FILE.test(f)) {
          // 127.0.0.1 is no host's address.
          assert.equal(got.status, 403, f);
          assert.match(got.body, /is served only to \S+ at its address 10\.30\.0\.\d+/);
          refused++;
          continue;
        }
        assert.equal(got.status, 200, f);
        // What anyone may fetch carries no secret.
        for (const bit of [token, token.split('.')[1]!, 'PRIVATE KEY', ...keys]) assert.ok(!got.body.includes(bit), `${f} carries a secret`);
        // A MAC's boot script is the server's own answer (its default: test 'serve: a fresh host…').
        if (!BOOT_SCRIPT.test(f)) assert.equal(got.body, readFileSync(join(pxe, f), 'latin1'), f);
      }
      // One server per cluster: a second one on another port refuses to start, naming the first.
      const second = await startServeCli(PXE, out).then(
        async (p) => (await p.stop(), 'a second server started'),
        (e: Error) => e.message,
      );
      assert.match(second, /^serve exited 1: [^]*kubebake: another kubebake serve \(pid \d+ on .*\) already serves this cluster: stop it first/);
      assert.equal((await call(s.port, 'GET', '/secrets/token')).status, 404);
      assert.equal((await call(s.port, 'GET', '/../secrets/token')).status, 400);

      // Nothing failed yet and nothing is ready: --wait gives up at its timeout (exit 4).
      const early = await runKubebakeAsync(['status', '-f', PXE, '--server', s.url, '--wait', '--timeout', '3s']);
      assert.equal(early.status, 4, early.stderr);
      assert.match(early.stderr, /kubebake: cluster metal is not ready after 3s \(--timeout\)/);
      assert.equal(runKubebake(['status', '-f', PXE, '--server', s.url, '--wait', '--timeout', 'soon']).status, 2, 'a timeout that is no duration is a usage error');

      assert.ok(refused >= 12, `${refused} secret files`);
      const first = await report(s.port, '/report/worker1', reportKey(secret, 'worker1'), 'event=fail\nstep=base\nrc=1\nlog:\n\u001b]0;pwned\u0007\n');
      assert.equal(first.status, 400, 'control characters are refused');
      assert.equal((await report(s.port, '/report/worker1', reportKey(secret, 'worker1'), 'event=fail\nstep=base\nrc=1\nlog:\nE: Unable to locate package cri-o\n')).status, 204);

      const st = runKubebake(['status', '-f', PXE, '--server', s.url]);
      assert.equal(st.status, 3, `a failed host is exit 3: ${st.stderr}`);
      assert.ok(!st.stdout.includes('\u001b'), 'no colour codes when not a terminal');
      assert.match(st.stdout, /^cluster metal: failed \(0\/6 done, 1 failed\)$/m);
      assert.match(st.stdout, /^ {2}worker1 +worker +installed +\[-+\] +0\/\d+ +failed: base: E: Unable to locate package cri-o$/m);
      assert.match(st.stdout, /^ {2}cp1 +control-plane +armed to install +\[-+\] +0\/\d+ +seed fetched$/m);
      const json = runKubebake(['status', '-f', PXE, '--server', s.url, '--json']);
      assert.equal(json.status, 3);
      assert.equal(runKubebake(['status', '-f', PXE, '--server', s.url, '--wait']).status, 3, '--wait ends at a failure');
      const parsed = JSON.parse(json.stdout) as { verdict: string; hosts: { name: string; phase: string }[] };
      assert.equal(parsed.verdict, 'failed');
      assert.equal(parsed.hosts.find((h) => h.name === 'worker1')!.phase, 'failed');
    } finally {
      const { code } = await s.stop();
      assert.equal(code, 0);
    }
    assert.ok(existsSync(join(out, 'metal', 'serve-state', 'state.json')));
    assert.ok(!existsSync(join(out, 'metal', 'serve-state', LOCK_FILE)), 'a stopped server leaves no lock');
  });
});

test('serve refuses without secrets (render first) and a bad --listen (usage); status says when no server answers', async () => {
  await withTempDir(async (out) => {
    const r = runKubebake(['serve', '-f', PXE, '-o', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no secrets in .*: run `kubebake render cloud-init -f .* first/);
    assert.equal(runKubebake(['serve', '-f', PXE, '-o', out, '--listen', 'nonsense']).status, 2);
    const st = runKubebake(['status', '-f', PXE, '--server', 'http://127.0.0.1:9']);
    assert.equal(st.status, 1);
    assert.match(st.stderr, /cannot get the status from http:\/\/127\.0\.0\.1:9/);
    assert.equal(runKubebake(['status', '-f', repoPath('profiles', 'default.yaml')]).status, 2, 'no delivery.server and no --server');
  });
});

test('status --wait: polls until every host reported its last step, then prints the ready cluster (exit 0)', { timeout: 120_000 }, async () => {
  await withTempDir(async (out) => {
    assert.equal(runKubebake(['render', 'cloud-init', '-f', PXE, '-o', out, '--delivery', 'pxe']).status, 0);
    const s = await startServeCli(PXE, out);
    try {
      const waiting = runKubebakeAsync(['status', '-f', PXE, '--server', s.url, '--wait', '--timeout', '90s']);
      const secret = readFileSync(join(out, 'metal', 'secrets', 'report.secret'), 'utf8').trim();
      const status = JSON.parse((await call(s.port, 'GET', '/api/status')).body) as { hosts: { name: string; steps: { name: string }[] }[] };
      await new Promise((r) => setTimeout(r, 3000)); // the waiting status has polled at least once
      for (const h of status.hosts) {
        const last = h.steps.at(-1)!.name;
        const r = await report(s.port, `/report/${h.name}`, reportKey(secret, h.name), `event=end\nstep=${last}\n`);
        assert.equal(r.status, 204, h.name);
      }
      const done = await waiting;
      assert.equal(done.status, 0, done.stderr);
      assert.match(done.stdout, /^cluster metal: ready \(6\/6 done\)$/m);
      assert.match(done.stderr, /^waiting: cluster metal: (waiting|in-progress) \(\d\/6 done\)$/m);
    } finally {
      await s.stop();
    }
  });
});

test('serve: a fresh host\'s iPXE and GRUB scripts install when nobody chooses; once it reported they are the tree\'s own (local disk); --reinstall arms it again', { timeout: 120_000 }, async (t) => {
  await withTempDir(async (out) => {
    assert.equal(runKubebake(['render', 'cloud-init', '-f', PXE, '-o', out, '--delivery', 'pxe']).status, 0);
    const pxe = join(out, 'metal', 'pxe');
    const IPXE = 'ipxe/0c-c4-7a-30-00-11.ipxe';
    const GRUB = 'grub/grub.cfg-0c-c4-7a-30-00-11';
    const file = (rel: string): string => readFileSync(join(pxe, rel), 'utf8');
    const choose = (script: string): string | undefined => script.split('\n').find((l) => l.startsWith('choose '));
    const grubDefault = (script: string): string | undefined => script.split('\n').find((l) => l.startsWith('set default='));
    /** The script without its comments and default: the menu and what each entry boots. */
    const body = (script: string): string => script.split('\n').filter((l) => !l.startsWith('#') && !l.startsWith('choose ') && !l.startsWith('set default=')).join('\n');
    // The tree's files (for any web server): local after 10 s, installing is a choice.
    assert.equal(choose(file(IPXE)), 'choose --default local --timeout 10000 target || goto local');
    assert.equal(grubDefault(file(GRUB)), "set default='local'");
    const get = async (port: number, rel: string): Promise<string> => {
      const r = await call(port, 'GET', `/${rel}`);
      assert.equal(r.status, 200, rel);
      assert.equal(r.headers['cache-control'], 'no-store', `${rel}: never cached, the answer changes`);
      return Buffer.from(r.body, 'latin1').toString('utf8');
    };

    let s = await startServeCli(PXE, out);
    try {
      const ipxe = await get(s.port, IPXE);
      const grub = await get(s.port, GRUB);
      assert.equal(choose(ipxe), 'choose --default install --timeout 10000 target || goto local', 'a fresh host is armed');
      assert.equal(grubDefault(grub), "set default='cp1'");
      assert.ok(/^menuentry '.*' --id 'cp1' \{$/m.test(grub), 'the default names the install entry');
      assert.equal(body(ipxe), body(file(IPXE)), 'the same menu and kernel line as the tree');
      assert.equal(body(grub), body(file(GRUB)));
      assert.equal(choose(await get(s.port, 'ipxe/0c:c4:7a:30:00:11.ipxe')), choose(ipxe), 'the colon form too');
      if (!missingTools('grub-script-check')) {
        const { dir, cleanup } = tempFiles({ 'grub.cfg-cp1': grub });
        try {
          const r = run('grub-script-check', [join(dir, 'grub.cfg-cp1')]);
          assert.equal(r.status, 0, r.stdout + r.stderr);
        } finally {
          cleanup();
        }
      } else t.diagnostic('grub-script-check not installed: the served GRUB script is not checked');

      // Its preseed is not anyone's to fetch (nor to disarm it with): 127.0.0.1 is not cp1.
      assert.equal((await call(s.port, 'GET', '/preseed/cp1.cfg')).status, 403);
      assert.equal(choose(await get(s.port, IPXE)), 'choose --default install --timeout 10000 target || goto local', 'still armed');
      // Its system reports (its installer's fetch from its own address: test/serve/netns.test.ts): from now on cp1's scripts are the tree's (local).
      const secret = readFileSync(join(out, 'metal', 'secrets', 'report.secret'), 'utf8').trim();
      assert.equal((await report(s.port, '/report/cp1', reportKey(secret, 'cp1'), 'event=boot\n')).status, 204);
      assert.equal(await get(s.port, IPXE), file(IPXE));
      assert.equal(await get(s.port, GRUB), file(GRUB));
      assert.equal(choose(await get(s.port, 'ipxe/0c-c4-7a-30-00-21.ipxe')), 'choose --default install --timeout 10000 target || goto local', 'worker1 is still armed');
      const st = runKubebake(['status', '-f', PXE, '--server', s.url]);
      assert.match(st.stdout, /^ {2}cp1 +control-plane +installed +\[/m);
      assert.match(st.stdout, /^ {2}worker1 +worker +armed to install +\[/m);
    } finally {
      await s.stop();
    }

    const bad = runKubebake(['serve', '-f', PXE, '-o', out, '--reinstall', 'cp1,nosuch']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /kubebake: --reinstall "nosuch": no such host in cluster metal/);

    s = await startServeCli(PXE, out, '127.0.0.1:0', ['--reinstall', 'cp1']);
    try {
      assert.equal(choose(await get(s.port, IPXE)), 'choose --default install --timeout 10000 target || goto local', 're-armed');
      assert.match(s.output(), /cp1: armed to install: its next network boot installs it \(--reinstall\)/);
      assert.match(runKubebake(['status', '-f', PXE, '--server', s.url]).stdout, /^ {2}cp1 +control-plane +armed to install +\[/m);
    } finally {
      await s.stop();
    }
  });
});
