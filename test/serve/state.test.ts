// The progress model alone: phases, verdict, and what a restart keeps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyReport, bootDefault, initialHost, installStarted, phoneHome, rearm, restoreHosts, seedServed, verdictOf, type HostSpec } from '../../src/serve/state.js';

const SPEC: HostSpec = { name: 'w1', role: 'worker', ip: '10.0.0.21', steps: ['resolver', 'base', 'bootstrap'] };
const T = '2026-11-30T12:00:00.000Z';

test('phases: waiting → seed-fetched → booting → running → done; a failure names its step and last log line', () => {
  let h = initialHost(SPEC);
  assert.equal(h.phase, 'waiting');
  h = seedServed(h, 'meta-data', T);
  h = seedServed(h, 'meta-data', T);
  assert.deepEqual([h.phase, h.seedFiles], ['seed-fetched', ['meta-data']]);
  h = applyReport(h, { event: 'boot' }, T);
  assert.deepEqual([h.phase, h.boots], ['booting', 1]);
  h = applyReport(h, { event: 'start', step: 'resolver' }, T);
  assert.deepEqual([h.phase, h.stepIndex], ['running', 1]);
  const failed = applyReport(applyReport(h, { event: 'start', step: 'base' }, T), { event: 'fail', step: 'base', rc: 1, log: ['a', 'why it failed'] }, T);
  assert.deepEqual([failed.phase, failed.reason, failed.stepIndex], ['failed', 'base: why it failed', 2]);
  assert.equal(applyReport(applyReport(h, { event: 'start', step: 'base' }, T), { event: 'fail', step: 'base', rc: 7, log: [] }, T).reason, 'base: exit status 7');
  // A reboot after the failure: booting again, then the failed step starts over and the reason goes.
  const again = applyReport(applyReport(failed, { event: 'boot' }, T), { event: 'start', step: 'base' }, T);
  assert.deepEqual([again.phase, again.reason, again.log, again.boots], ['running', undefined, [], 2]);
  let done = again;
  for (const step of ['base', 'bootstrap']) done = applyReport(applyReport(done, { event: 'start', step }, T), { event: 'end', step }, T);
  assert.equal(done.phase, 'done');
  assert.equal(applyReport(done, { event: 'boot' }, T).phase, 'done', 'a later reboot of a joined host stays joined');
  assert.equal(phoneHome(initialHost(SPEC), T).phase, 'booting');
  assert.equal(phoneHome(done, T).phase, 'done');
});

test('verdict: any failure fails the cluster; ready only when every host is done', () => {
  const w = initialHost(SPEC);
  const done = { ...w, phase: 'done' as const };
  assert.equal(verdictOf([w, w]), 'waiting');
  assert.equal(verdictOf([done, { ...w, phase: 'running' }]), 'in-progress');
  assert.equal(verdictOf([done, done]), 'ready');
  assert.equal(verdictOf([done, { ...w, phase: 'failed' }]), 'failed');
});

test('restore: a host keeps its record while its steps are the same; a changed step list, a new host or garbage start afresh', () => {
  const saved = { hosts: [applyReport(initialHost(SPEC), { event: 'boot' }, T), { name: 'gone', steps: [] }] };
  assert.equal(restoreHosts([SPEC], saved)[0]!.phase, 'booting');
  assert.equal(restoreHosts([{ ...SPEC, steps: ['resolver', 'bootstrap'] }], saved)[0]!.phase, 'waiting');
  assert.deepEqual(restoreHosts([SPEC, { ...SPEC, name: 'w2' }], saved).map((h) => h.name), ['w1', 'w2']);
  for (const junk of [undefined, null, 42, { hosts: 'x' }, { hosts: [null, 7] }]) assert.equal(restoreHosts([SPEC], junk)[0]!.phase, 'waiting');
});

test('install state: armed until the install starts, installed on the system\'s first word; a restart never re-arms an installed host', () => {
  const fresh = initialHost(SPEC);
  assert.deepEqual([fresh.install, bootDefault(fresh)], ['armed', 'install']);
  const installing = installStarted(fresh, T);
  assert.deepEqual([installing.install, installing.installStartedAt, bootDefault(installing)], ['installing', T, 'local']);
  assert.equal(installStarted(installing, 'later').installStartedAt, T, 'the first fetch counts');
  assert.equal(applyReport(installing, { event: 'boot' }, T).install, 'installed');
  assert.equal(phoneHome(fresh, T).install, 'installed', 'a system that phones home is installed, however it got there');
  assert.equal(bootDefault(applyReport(fresh, { event: 'start', step: 'resolver' }, T)), 'local');
  const armedAgain = rearm(SPEC, 'now');
  assert.deepEqual([armedAgain.install, armedAgain.armedAt, armedAgain.phase], ['armed', 'now', 'waiting']);

  // A changed step list (a new kubebake, a re-render) starts the progress afresh but keeps "installed".
  const saved = { hosts: [applyReport(installing, { event: 'boot' }, T)] };
  const restarted = restoreHosts([{ ...SPEC, steps: ['resolver', 'bootstrap'] }], saved)[0]!;
  assert.deepEqual([restarted.phase, restarted.install, bootDefault(restarted)], ['waiting', 'installed', 'local']);
  assert.equal(restoreHosts([SPEC], { hosts: [armedAgain] })[0]!.install, 'armed', 'an armed host stays armed');
  // A state file written before the field existed: a host that did anything is installed.
  const { install: _dropped, ...old } = applyReport(fresh, { event: 'boot' }, T);
  assert.equal(restoreHosts([SPEC], { hosts: [old] })[0]!.install, 'installed');
  const { install: _none, ...oldWaiting } = fresh;
  assert.equal(restoreHosts([SPEC], { hosts: [oldWaiting] })[0]!.install, 'armed');
  assert.equal(restoreHosts([SPEC], { hosts: [{ ...old, install: 'bogus' }] })[0]!.install, 'installed', 'an unknown value is not trusted');
});
