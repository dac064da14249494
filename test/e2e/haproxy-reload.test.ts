// A load balancer's HAProxy takes a new haproxy.cfg without dropping a connection: the real
// HAProxy (Debian's), started as its systemd unit starts it, holding TLS connections to three
// control planes; src/remote/sh/haproxy-install.sh installs the configuration rendered without
// cp3 and reloads through the unit's own ExecReload (haproxy -c, kill -USR2 to the master), as
// `kubebake node remove cp3` has it do on each load balancer. Every connection opened before
// the reload still answers after it — cp3's too — and new ones never reach cp3.
// In private mount, network and PID namespaces (test/helpers/haproxy_reload.py); needs root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderHaproxyCfg } from '../../src/config/haproxy/haproxy-cfg.js';
import { buildPlan, controlPlanes } from '../../src/plan/plan.js';
import { profileText, withoutHost } from '../helpers/day2.js';
import { repoPath, topologyFrom } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools } from '../helpers/tools.js';

const skip = process.getuid?.() !== 0 ? 'needs root (namespaces)' : missingTools('haproxy', 'unshare', 'ip', 'openssl');

interface Outcome { haproxyLog: string; rc: number; stdout: string; stderr: string; before: string[]; afterOld: (string | null)[]; new: string[]; live: string; staged: string | null; masterAlive: boolean; systemctl: string }

/**
 * `maxconn 20000` makes HAProxy raise its file limit to about 40,000 at start; systemd gives a
 * service a hard limit of 524288 (systemd.exec(5), LimitNOFILE=), but this test machine's hard
 * limit is 20000 and root here may not raise it: the test's copies hold fewer connections.
 */
const fitLimits = (cfg: string): string => cfg.replace(/^(\s*)maxconn 20000$/m, '$1maxconn 4000');

function reload(work: string, before: string, after: string): Outcome {
  const plan = buildPlan(topologyFrom(profileText('default')));
  writeFileSync(join(work, 'before.cfg'), fitLimits(before));
  writeFileSync(join(work, 'after.cfg'), fitLimits(after));
  const args = [work, repoPath('src', 'remote', 'sh', 'haproxy-install.sh'), join(work, 'before.cfg'), join(work, 'after.cfg'), join(work, 'kubebake', 'haproxy.cfg'), plan.endpoint.address, ...controlPlanes(plan).map((n) => `${n.name}=${n.ip}`)];
  // /run and /etc/haproxy are the namespace's own (tmpfs): the machine's are not touched.
  const r = spawnSync('unshare', ['--mount', '--net', '--pid', '--fork', '--kill-child', '--mount-proc', 'sh', '-c', 'mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /etc/haproxy && exec python3 "$@"', 'sh', repoPath('test', 'helpers', 'haproxy_reload.py'), ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Outcome;
}

test('haproxy reload: connections held through the load balancer survive the new configuration; new ones follow it', { skip }, () =>
  withTempDir((work) => {
    const before = renderHaproxyCfg(buildPlan(topologyFrom(profileText('default'))));
    const after = renderHaproxyCfg(buildPlan(topologyFrom(withoutHost(profileText('default'), 'cp3'))));
    assert.match(before, /server cp3 10\.20\.0\.13:6443/);
    assert.doesNotMatch(after, /cp3/);
    const o = reload(work, before, after);
    assert.equal(o.rc, 0, o.stderr);
    assert.equal(o.stdout.trim(), 'reloaded');
    assert.equal(o.systemctl.trim(), 'systemctl reload-or-restart haproxy');
    assert.equal(o.live, fitLimits(after));
    assert.equal(o.staged, fitLimits(after), "first boot's staged copy follows");
    assert.ok(o.masterAlive, 'the master process stayed (a reload, not a restart)');
    // Round robin over three control planes: every one of them had connections, cp3 included.
    assert.deepEqual([...new Set(o.before)].sort(), ['cp1', 'cp2', 'cp3'], JSON.stringify(o));
    assert.deepEqual(o.afterOld, o.before, 'each old connection is still served, by the same control plane');
    assert.equal(o.new.length, 6);
    assert.deepEqual([...new Set(o.new)].sort(), ['cp1', 'cp2'], JSON.stringify(o));
  }));

test('haproxy reload: a configuration HAProxy refuses never lands; the running one stays', { skip }, () =>
  withTempDir((work) => {
    const before = renderHaproxyCfg(buildPlan(topologyFrom(profileText('default'))));
    const broken = before.replace('balance roundrobin', 'balance round-robin-please');
    const o = reload(work, before, broken);
    assert.equal(o.rc, 3, o.stdout);
    assert.match(o.stderr, /balance only supports 'roundrobin'/);
    assert.equal(o.live, fitLimits(before));
    assert.equal(o.staged, null);
    assert.equal(o.systemctl, '', 'no reload');
    assert.deepEqual(o.afterOld, o.before);
    assert.deepEqual([...new Set(o.new)].sort(), ['cp1', 'cp2', 'cp3']);
  }));
