// Ingress frontends on the load balancer: which hosts each one sends to, checked against the
// topology written here (not against the code's own selection), and with HAProxy's own check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse, stringify } from 'yaml';
import { readFileSync } from 'node:fs';
import { renderHaproxyCfg } from '../../src/config/haproxy/haproxy-cfg.js';
import { buildPlan } from '../../src/plan/plan.js';
import { loadTopology } from '../../src/topology/load.js';
import { repoPath } from '../helpers/repo.js';
import { haproxyCheck, missingTools } from '../helpers/tools.js';

/** The HA profile with `workers` workers; worker3 and worker7 carry the ingress label. */
function topology(workers: number, ingress: unknown[]): string {
  const doc = parse(readFileSync(repoPath('profiles', 'ubuntu-26-04-ha.yaml'), 'utf8'));
  doc.network.nodeSubnet = '10.30.0.0/20';
  doc.ingress = ingress;
  doc.hosts = [
    ...[1, 2, 3].map((i) => ({ name: `cp${i}`, role: 'control-plane', ip: `10.30.0.${10 + i}` })),
    ...Array.from({ length: workers }, (_, i) => ({
      name: `worker${i + 1}`,
      role: 'worker',
      ip: `10.30.1.${1 + i}`,
      ...(i + 1 === 3 || i + 1 === 7 ? { labels: { 'node-role.kubernetes.io/ingress': '', zone: 'a' } } : {}),
    })),
    { name: 'lb1', role: 'load-balancer', ip: '10.30.0.8', interface: 'ens18' },
    { name: 'lb2', role: 'load-balancer', ip: '10.30.0.9', interface: 'ens18' },
  ];
  return stringify(doc);
}
const load = (text: string) => loadTopology(text, 'ingress.yaml');
/** The servers of one HAProxy backend, as `name address:port`. */
const servers = (cfg: string, backend: string): string[] => {
  const section = cfg.split(/\n(?=\S)/).find((s) => s.startsWith(`backend ${backend}\n`));
  assert.ok(section, `no backend ${backend}`);
  return [...section.matchAll(/^\s+server (\S+) (\S+) check/gm)].map((m) => `${m[1]} ${m[2]}`);
};

test('a nodeSelector sends an ingress frontend to the labelled workers only; without one, to every worker', { skip: missingTools('haproxy') }, () => {
  const loaded = load(topology(10, [
    { name: 'https', port: 443, nodePort: 30443, nodeSelector: { 'node-role.kubernetes.io/ingress': '' } },
    { name: 'http', port: 80, nodePort: 30080 },
    { name: 'zone-b', port: 8443, nodePort: 30444, nodeSelector: { 'node-role.kubernetes.io/ingress': '', zone: 'a' } },
  ]));
  assert.ok(loaded.topology, JSON.stringify(loaded.diagnostics));
  const cfg = renderHaproxyCfg(buildPlan(loaded.topology));
  assert.deepEqual(servers(cfg, 'https-nodeports'), ['worker3 10.30.1.3:30443', 'worker7 10.30.1.7:30443']);
  assert.deepEqual(servers(cfg, 'zone-b-nodeports'), ['worker3 10.30.1.3:30444', 'worker7 10.30.1.7:30444'], 'every key must match');
  assert.equal(servers(cfg, 'http-nodeports').length, 10);
  const r = haproxyCheck(cfg);
  assert.equal(r.status, 0, r.stderr);
});

test('a nodeSelector no targeted host matches is an error at its line; a label value Kubernetes rejects is a schema error', () => {
  const none = load(topology(4, [{ name: 'https', port: 443, nodePort: 30443, nodeSelector: { 'node-role.kubernetes.io/ingress': 'yes' } }]));
  assert.equal(none.topology, undefined);
  const e = none.diagnostics.find((d) => d.severity === 'error');
  assert.equal(e?.code, 'ingress-selector-empty');
  assert.deepEqual(e?.path, ['ingress', 0, 'nodeSelector']);
  assert.match(e!.message, /none of its workers match \(node-role\.kubernetes\.io\/ingress="yes"\)/);
  // Control planes carry no such label: the same selector on targets: control-planes matches none.
  const cps = load(topology(4, [{ name: 'https', port: 443, nodePort: 30443, targets: 'control-planes', nodeSelector: { 'node-role.kubernetes.io/ingress': '' } }]));
  assert.equal(cps.diagnostics.find((d) => d.severity === 'error')?.code, 'ingress-selector-empty');
  const bad = load(topology(4, [{ name: 'https', port: 443, nodePort: 30443, nodeSelector: { 'node-role.kubernetes.io/ingress': '-x' } }]));
  assert.equal(bad.topology, undefined);
  assert.ok(bad.diagnostics.some((d) => d.severity === 'error' && d.path.join('.').startsWith('ingress.0.nodeSelector')), JSON.stringify(bad.diagnostics));
});

test('a frontend on more than 64 workers without a nodeSelector warns; with one, or on 64, it does not', () => {
  const warned = (workers: number, ingress: unknown[]) => load(topology(workers, ingress)).diagnostics.filter((d) => d.code === 'ingress-many-backends');
  const many = warned(65, [{ name: 'https', port: 443, nodePort: 30443 }]);
  assert.equal(many.length, 1);
  assert.match(many[0]!.message, /sends to all 65 workers/);
  assert.equal(many[0]!.severity, 'warning');
  assert.equal(warned(64, [{ name: 'https', port: 443, nodePort: 30443 }]).length, 0);
  assert.equal(warned(65, [{ name: 'https', port: 443, nodePort: 30443, nodeSelector: { zone: 'a' } }]).length, 0);
});
