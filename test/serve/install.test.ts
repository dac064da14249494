// Install or boot locally: `kubebake serve` answers each MAC's boot script (iPXE, GRUB) with the
// install default only while the host is armed; the installer fetching its config moves it to
// the local disk, a report marks it installed, --reinstall arms it again, and all of it survives
// a restart. Real HTTP on 127.0.0.1 against the server of test/helpers/serve.ts, whose stand-in
// scripts say which default they carry (the real scripts: test/serve/cli.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATE_FILE } from '../../src/serve/store.js';
import { call, HOSTS, ipOf, makeCluster, report, serve } from '../helpers/serve.js';
import { withTempDir } from '../helpers/tmp.js';

const mac = (name: string): string => HOSTS.find((h) => h.name === name)!.mac!;
const hyphens = (name: string): string => mac(name).replace(/:/g, '-');

/** What each boot-script name of the host answers (status 200 expected). */
async function scriptsOf(port: number, name: string): Promise<string[]> {
  const paths = [`/ipxe/${hyphens(name)}.ipxe`, `/ipxe/${mac(name)}.ipxe`, `/grub/grub.cfg-${hyphens(name)}`, `/grub/grub.cfg-01-${hyphens(name)}`];
  const replies = await Promise.all(paths.map((p) => call(port, 'GET', p)));
  replies.forEach((r, i) => assert.equal(r.status, 200, paths[i]));
  return replies.map((r) => r.body);
}

const installs = (name: string): string[] => [`#!ipxe\necho ${name}: default install\n`, `#!ipxe\necho ${name}: default install\n`, `# ${name}: default install\n`, `# ${name}: default install\n`];
const local = (name: string): string[] => [`#!ipxe\necho ${name}: default local\n`, `#!ipxe\necho ${name}: default local\n`, `# ${name}: default local\n`, `# ${name}: default local\n`];

function withInstallerFiles(dir: string): void {
  const pxe = join(dir, 'cluster', 'pxe');
  mkdirSync(join(pxe, 'preseed'), { recursive: true });
  writeFileSync(join(pxe, 'preseed', 'cp1.cfg'), 'd-i debian-installer/locale string en_US.UTF-8\n');
  mkdirSync(join(pxe, 'autoinstall', 'worker1'), { recursive: true });
  writeFileSync(join(pxe, 'autoinstall', 'worker1', 'user-data'), '#cloud-config\nautoinstall: {version: 1}\n');
}

test('a fresh host installs by default; once its installer fetched its config, the same MAC boots the local disk; a report marks it installed', async () => {
  await withTempDir(async (dir) => {
    makeCluster(dir);
    withInstallerFiles(dir);
    const s = await serve(dir);
    try {
      for (const h of HOSTS) assert.deepEqual(await scriptsOf(s.port, h.name), installs(h.name), `${h.name}: armed`);
      const installOf = (name: string): string => s.status().hosts.find((h) => h.name === name)!.install;
      assert.equal(installOf('cp1'), 'armed', 'fetching its boot script does not disarm it');
      // Looking is not fetching: HEAD, and the autoinstall document a person reads, leave it armed.
      assert.equal((await call(s.port, 'HEAD', '/preseed/cp1.cfg', { from: ipOf('cp1') })).status, 200);
      assert.equal((await call(s.port, 'GET', '/autoinstall/worker1.yaml', { from: ipOf('worker1') })).status, 200);
      assert.deepEqual([installOf('cp1'), installOf('worker1')], ['armed', 'armed']);
      // Anyone else is refused its secret files, so cannot disarm it either.
      assert.equal((await call(s.port, 'GET', '/preseed/cp1.cfg')).status, 403);
      assert.equal((await call(s.port, 'GET', '/autoinstall/worker1/user-data', { from: ipOf('cp1') })).status, 403);
      assert.deepEqual([installOf('cp1'), installOf('worker1')], ['armed', 'armed']);

      // The Debian installer fetches its preseed: cp1 is installing, and its next network boot goes to the disk.
      assert.equal((await call(s.port, 'GET', '/preseed/cp1.cfg', { from: ipOf('cp1') })).status, 200);
      assert.equal(installOf('cp1'), 'installing');
      assert.deepEqual(await scriptsOf(s.port, 'cp1'), local('cp1'));
      // Ubuntu's installer fetches its NoCloud user-data (the autoinstall document).
      assert.equal((await call(s.port, 'GET', '/autoinstall/worker1/user-data', { from: ipOf('worker1') })).status, 200);
      assert.deepEqual(await scriptsOf(s.port, 'worker1'), local('worker1'));
      // A system booted with its HTTP seed fetches its user-data: the same.
      assert.equal((await call(s.port, 'GET', '/nocloud/lb1/user-data', { from: ipOf('lb1') })).status, 200);
      assert.deepEqual(await scriptsOf(s.port, 'lb1'), local('lb1'));

      const key = HOSTS.find((h) => h.name === 'cp1')!.key;
      assert.equal((await report(s.port, '/report/cp1', key, 'event=boot\n')).status, 204);
      assert.equal(installOf('cp1'), 'installed');
      assert.deepEqual(await scriptsOf(s.port, 'cp1'), local('cp1'));
      const api = JSON.parse((await call(s.port, 'GET', '/api/status')).body) as { hosts: { name: string; install: string }[] };
      assert.deepEqual(Object.fromEntries(api.hosts.map((h) => [h.name, h.install])), { lb1: 'installing', cp1: 'installed', worker1: 'installing' });
    } finally {
      await s.close();
    }
  });
});

test('--reinstall arms a host again (afresh), the state file keeps it across restarts; unknown MACs get no script at all', async () => {
  await withTempDir(async (dir) => {
    const { state } = makeCluster(dir);
    withInstallerFiles(dir);
    let s = await serve(dir);
    try {
      await call(s.port, 'GET', '/preseed/cp1.cfg', { from: ipOf('cp1') });
      await call(s.port, 'GET', '/autoinstall/worker1/user-data', { from: ipOf('worker1') });
      const key = HOSTS.find((h) => h.name === 'cp1')!.key;
      assert.equal((await report(s.port, '/report/cp1', key, 'event=start\nstep=resolver\n')).status, 204);
    } finally {
      await s.close();
    }
    // Restarted without a flag: nothing is armed that was not.
    s = await serve(dir);
    try {
      assert.deepEqual(await scriptsOf(s.port, 'cp1'), local('cp1'));
      assert.deepEqual(await scriptsOf(s.port, 'worker1'), local('worker1'));
      assert.deepEqual(await scriptsOf(s.port, 'lb1'), installs('lb1'), 'lb1 never started: still armed');
    } finally {
      await s.close();
    }
    s = await serve(dir, {}, ['cp1']);
    try {
      // Written before the first request is answered.
      const saved = JSON.parse(readFileSync(join(state, STATE_FILE), 'utf8')) as { hosts: { name: string; install: string; armedAt?: string; phase: string; stepIndex: number }[] };
      const cp1 = saved.hosts.find((h) => h.name === 'cp1')!;
      assert.equal(cp1.install, 'armed');
      assert.ok(cp1.armedAt);
      assert.deepEqual([cp1.phase, cp1.stepIndex], ['waiting', 0], 'its progress starts afresh');
      assert.equal(saved.hosts.find((h) => h.name === 'worker1')!.install, 'installing', 'only the named host');
      assert.deepEqual(await scriptsOf(s.port, 'cp1'), installs('cp1'));
      assert.deepEqual(await scriptsOf(s.port, 'worker1'), local('worker1'));
    } finally {
      await s.close();
    }
    s = await serve(dir);
    try {
      assert.deepEqual(await scriptsOf(s.port, 'cp1'), installs('cp1'), 'still armed after a restart without the flag');
      await call(s.port, 'GET', '/preseed/cp1.cfg', { from: ipOf('cp1') });
      assert.deepEqual(await scriptsOf(s.port, 'cp1'), local('cp1'));
      for (const p of ['/ipxe/52-54-00-99-99-99.ipxe', '/ipxe/52:54:00:99:99:99.ipxe', '/grub/grub.cfg-52-54-00-99-99-99', '/grub/grub.cfg-01-52-54-00-99-99-99'])
        assert.equal((await call(s.port, 'GET', p)).status, 404, `${p}: an unknown machine is told nothing`);
    } finally {
      await s.close();
    }
  });
});
