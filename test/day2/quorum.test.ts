// When taking a control plane out keeps etcd working (src/day2/quorum.ts), against etcd's own
// table of majorities (etcd-io/website content/en/docs/v3.5/faq.md, "What is failure tolerance?":
// 1→1, 2→2, 3→2, 4→3, 5→3, 6→4, 7→4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quorumOf, removalRefusal } from '../../src/day2/quorum.js';

const cps = (spec: string): { name: string; healthy: boolean }[] =>
  spec.split(' ').map((s, i) => ({ name: `cp${i + 1}`, healthy: s === 'up' }));

test("quorum: etcd's majority table", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(quorumOf), [1, 2, 2, 3, 3, 4, 4]);
});

test('quorum: a healthy member of a healthy cluster may go; a down one too', () => {
  assert.equal(removalRefusal('cp3', cps('up up up')), undefined);
  assert.equal(removalRefusal('cp3', cps('up up down')), undefined, 'removing the member that is down leaves 2 of 2 healthy');
  assert.equal(removalRefusal('cp2', cps('up up')), undefined, '2 → 1: the one left is its own majority');
  assert.equal(removalRefusal('cp5', cps('up up up down up')), undefined, '5 → 4 with 3 healthy: majority of 4 is 3');
});

test('quorum: refused when the members left would not have a healthy majority', () => {
  const r = removalRefusal('cp3', cps('up down up'));
  assert.equal(r?.code, 'etcd.quorum');
  assert.match(r!.message, /taking cp3 out would stop the cluster: etcd would keep 2 members and needs 2 of them healthy, but cp2 is not/);
  assert.match(r!.hint!, /bring cp2 back to Ready first; or, if it is gone for good, take it out first/);
  assert.equal(removalRefusal('cp5', cps('up up down down up'))?.code, 'etcd.quorum', '5 → 4 with 2 healthy left: needs 3');
});

test('quorum: refused when etcd has lost its quorum already, and for the last member', () => {
  assert.equal(removalRefusal('cp1', cps('up down down'))?.code, 'etcd.quorum-lost');
  assert.equal(removalRefusal('cp1', cps('down down up'))?.code, 'etcd.quorum-lost');
  const last = removalRefusal('cp1', cps('up'));
  assert.equal(last?.code, 'etcd.last-member');
  assert.match(last!.message, /cp1 is the last control plane of the running cluster/);
  assert.equal(removalRefusal('cp9', cps('up up up')), undefined, 'not a member: nothing of etcd changes');
});
