// What the programs that read our output on a real host do with it: the API server certificate
// against the names /etc/hosts gives, YAML 1.1 readers (kubeadm, kubelet, netplan, PyYAML) against
// host names that 1.1 reads as something other than a string, and the HAProxy the OS ships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { renderPlan, text } from '../helpers/cluster.js';
import { profile, repoPath } from '../helpers/repo.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { renderHaproxyCfg } from '../../src/config/haproxy/haproxy-cfg.js';
import { buildPlan } from '../../src/plan/plan.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';

const KUBEADM_CONFIG_PATH = HOST_PATHS.kubeadmConfig;
import type { Topology } from '../../src/topology/types.js';

interface WriteFile { path: string; content: string }
const writeFiles = (ud: string): WriteFile[] => (parse(ud, { version: '1.1' }) as { write_files: WriteFile[] }).write_files;

test('every name /etc/hosts gives the API endpoint address is in the API server certificate (certSANs)', async () => {
  for (const name of ['ubuntu-26-04-ha', 'default']) {
    const plan = await renderPlan(profile(name));
    const tree = renderCloudInitTree(plan);
    const init = plan.nodes.find((n) => n.initNode)!;
    const files = writeFiles(text(tree, `hosts/${init.name}/user-data`));
    const hosts = files.find((f) => f.path === '/etc/hosts')!.content;
    // The names on the endpoint address's lines, as the resolver reads /etc/hosts.
    const names = hosts
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
      .filter(([ip]) => ip === plan.endpoint.address)
      .flatMap(([, ...n]) => n);
    assert.ok(names.length > 0, `${name}: /etc/hosts names the endpoint ${plan.endpoint.address}`);
    const [, cluster] = parseAllDocuments(files.find((f) => f.path === KUBEADM_CONFIG_PATH)!.content).map((d) => d.toJS()) as { apiServer: { certSANs: string[] } }[];
    for (const n of names) assert.ok(cluster!.apiServer.certSANs.includes(n), `${name}: ${n} (from /etc/hosts) is not in certSANs ${cluster!.apiServer.certSANs.join(', ')}`);
  }
});

// Host names that are strings to a YAML 1.2 reader but not to a YAML 1.1 one: `no`/`on`/`y` are
// booleans, 0x1f an integer, 1e3 a float (as PyYAML and go-yaml v2 read them).
const TRICKY = ['no', 'on', 'y', '0x1f', '1e3'];

test(`host names ${TRICKY.join(', ')}: every YAML file kubebake emits reads back as strings in YAML 1.1`, async () => {
  const base = profile('default');
  const hosts = base.hosts.map((h, i) => (i < TRICKY.length ? { ...h, name: TRICKY[i]! } : h));
  const lbIndex = base.hosts.findIndex((h) => h.role === 'load-balancer');
  const lbName = hosts[lbIndex]!.name;
  const t: Topology = { ...base, hosts, apiEndpoint: { ...base.apiEndpoint, loadBalancer: lbName } };
  const plan = await renderPlan(t);
  const tree = renderCloudInitTree(plan);
  let checked = 0;
  for (const n of plan.nodes) {
    const ud = parse(text(tree, `hosts/${n.name}/user-data`), { version: '1.1' }) as { write_files: WriteFile[] };
    const meta = parse(text(tree, `hosts/${n.name}/meta-data`), { version: '1.1' }) as Record<string, unknown>;
    assert.equal(meta['local-hostname'], n.name);
    const kubeadm = ud.write_files.find((f) => f.path === KUBEADM_CONFIG_PATH);
    if (!kubeadm) continue;
    const docs = parseAllDocuments(kubeadm.content, { version: '1.1' }).map((d) => d.toJS()) as Record<string, any>[];
    const reg = docs[0]!.nodeRegistration as { name: unknown };
    assert.equal(reg.name, n.name, `${n.name}: nodeRegistration.name read as ${JSON.stringify(reg.name)}`);
    if (n.initNode) {
      for (const san of docs[1]!.apiServer.certSANs as unknown[]) assert.equal(typeof san, 'string', `certSAN ${JSON.stringify(san)}`);
      assert.ok((docs[1]!.apiServer.certSANs as unknown[]).includes(lbName));
    }
    checked++;
  }
  assert.ok(checked >= 4, 'the kubeadm configs of the tricky-named nodes were read');
});

test('HAProxy: the readyz check uses only keywords the OS release\'s HAProxy has', () => {
  // haproxy/haproxy doc/configuration.txt at v2.0.0 (ba23630ad009464dc8e4d01dac9ce779eb84cc2a),
  // section 4.1 "Proxy keywords matrix": the keywords HAProxy 2.0 knows (Ubuntu 20.04's series).
  const keywords20 = readFileSync(repoPath('test', 'fixtures', 'upstream', 'haproxy-2.0-proxy-keywords.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const focal = buildPlan({ ...profile('ubuntu-20-04'), kubernetes: { version: '1.34.7' } });
  const cfg = renderHaproxyCfg(focal);
  const backend = /^backend kubernetes-control-planes\n((?: {4}.*\n)+)/m.exec(cfg)![1]!.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const line of backend) {
    // Longest keyword of the matrix the line starts with ("option httpchk" before "option").
    const kw = keywords20.filter((k) => line === k || line.startsWith(k + ' ')).sort((a, b) => b.length - a.length)[0];
    assert.ok(kw, `HAProxy 2.0 has no keyword for "${line}"`);
  }
  assert.ok(backend.includes('option httpchk GET /readyz'), backend.join('\n'));
  // A release with HAProxy ≥ 2.2 (Debian 12: 2.6) gets the 2.2 syntax.
  const bookworm = buildPlan(profile('debian-12-cilium'));
  assert.match(renderHaproxyCfg(bookworm), /^ {4}http-check send meth GET uri \/readyz$/m);
});
