// `kubebake node remove|replace`: every refusal, against the stand-in kube-apiserver
// (test/helpers/fake-apiserver.ts) holding the cluster of the topology. A refusal changes nothing:
// no write request reaches the API (no cordon, eviction or delete), no file of the output changes.
// (The whole flow through SSH into booted hosts: test/e2e/node-day2.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKubebake, runKubebakeAsync } from '../helpers/cli.js';
import { populate, profileText, withoutHost } from '../helpers/day2.js';
import { startFakeApiServer, type FakeApiServer } from '../helpers/fake-apiserver.js';
import { snapshotDir, withTempDir } from '../helpers/tmp.js';
import { missingTools } from '../helpers/tools.js';

const DEFAULT = profileText('default');

/** Renders `text` into `out` (the store and output of a cluster that runs), then runs `fn` with its stand-in API. */
async function cluster(fn: (ctx: { dir: string; out: string; api: FakeApiServer; topology: (text: string) => string }) => Promise<void>, running = DEFAULT): Promise<void> {
  await withTempDir(async (dir) => {
    const out = join(dir, 'out');
    const first = join(dir, 'cluster.yaml');
    writeFileSync(first, running);
    const r = runKubebake(['render', 'cloud-init', '-f', first, '-o', out, '--delivery', 'none']);
    assert.equal(r.status, 0, r.stderr);
    const store = (f: string): string => readFileSync(join(out, 'default', 'secrets', f), 'utf8');
    const api = await startFakeApiServer({ cert: store('pki/ca.crt'), key: store('pki/ca.key') });
    populate(api.workloads, running);
    let n = 0;
    const topology = (text: string): string => {
      const file = join(dir, `topology-${++n}.yaml`);
      writeFileSync(file, text);
      return file;
    };
    try {
      await fn({ dir, out, api, topology });
    } finally {
      await api.close();
    }
  });
}

const files = (dir: string): Map<string, unknown> => new Map([...snapshotDir(dir)].filter(([, e]) => e.sha256 !== undefined));

/** Runs the command and checks that it was refused with exit `code`, wrote nothing to the API and changed no file. */
async function refused(ctx: { out: string; api: FakeApiServer }, args: string[], message: RegExp, code = 1): Promise<string> {
  const before = files(join(ctx.out, 'default'));
  const r = await runKubebakeAsync([...args, '-o', ctx.out, '--server', ctx.api.url]);
  assert.equal(r.status, code, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+\)/, 'no stack trace');
  assert.deepEqual(ctx.api.log.filter((l) => !l.startsWith('GET ')), [], 'no write request reached the API');
  assert.deepEqual(files(join(ctx.out, 'default')), before, 'no file changed');
  return r.stderr;
}

test('node remove: a node still in the topology is refused at its line, before the API is asked anything', () =>
  cluster(async (ctx) => {
    const file = ctx.topology(DEFAULT);
    const err = await refused(ctx, ['node', 'remove', 'cp3', '-f', file], /error\[hosts\[2\]\.name\]: cp3 is still a host of the topology/);
    const line = DEFAULT.split('\n').findIndex((l) => l.includes('name: cp3')) + 1;
    assert.match(err, new RegExp(`--> ${file.replace(/[.]/g, '\\.')}:${line}:\\d+`));
    assert.match(err, /hint: delete this host from hosts, then run the command again; to put a fresh machine in its place under the same name, use kubebake node replace cp3/);
    assert.deepEqual(ctx.api.log, []);
  }));

test('node remove: refused when etcd would lose its quorum (a control plane not Ready, or its etcd pod not ready)', () =>
  cluster(async (ctx) => {
    const file = ctx.topology(withoutHost(DEFAULT, 'cp3'));
    ctx.api.workloads.nodes.get('cp2')!.ready = false;
    await refused(ctx, ['node', 'remove', 'cp3', '-f', file], /error\[\(document\)\]: taking cp3 out would stop the cluster: etcd would keep 2 members and needs 2 of them healthy, but cp2 is not/);
    ctx.api.workloads.nodes.get('cp2')!.ready = true;
    ctx.api.workloads.pods.get('kube-system/etcd-cp2')!.ready = false;
    await refused(ctx, ['node', 'remove', 'cp3', '-f', file], /but cp2 is not \(Node not Ready, or its etcd pod not ready\)/);
    ctx.api.workloads.nodes.get('cp1')!.ready = false;
    await refused(ctx, ['node', 'remove', 'cp3', '-f', file], /etcd has lost its quorum already: of 3 control planes only 1 is healthy \(not Ready, or etcd not ready: cp1, cp2\)/);
  }));

test('node remove: the last control plane of the running cluster is refused', () =>
  cluster(async (ctx) => {
    // The topology has moved on to new control planes that never booted: the cluster has only cp3.
    ctx.api.workloads.nodes.delete('cp1');
    ctx.api.workloads.nodes.delete('cp2');
    const file = ctx.topology(withoutHost(DEFAULT, 'cp3'));
    await refused(ctx, ['node', 'remove', 'cp3', '-f', file], /cp3 is the last control plane of the running cluster: its etcd member holds the whole cluster state/);
  }));

test('node remove: a name neither the cluster nor the last render knows is refused, listing the Nodes', () =>
  cluster(async (ctx) => {
    const file = ctx.topology(DEFAULT);
    await refused(ctx, ['node', 'remove', 'wroker1', '-f', file], /the cluster has no Node wroker1 \(its Nodes: cp1, cp2, cp3, worker1, worker2\), and no earlier render has a host wroker1/);
  }));

test('node remove: a host that cannot be reached over SSH stops it before anything changes', { skip: missingTools('ssh-keygen') }, () =>
  cluster(async (ctx) => {
    const file = ctx.topology(withoutHost(DEFAULT, 'cp3'));
    // Every host's address leads to a port where nothing listens.
    const config = join(ctx.dir, 'ssh_config');
    writeFileSync(config, 'Host *\n  HostName 127.0.0.1\n  Port 9\n  UserKnownHostsFile /dev/null\n');
    const err = await refused(ctx, ['node', 'remove', 'cp3', '-f', file, '--ssh-config', config], /cannot run commands on lb1 \(10\.20\.0\.10\) as kubeadmin over SSH with sudo: .*Connection refused/);
    assert.match(err, /cannot run commands on cp3 \(10\.20\.0\.13\) as kubeadmin over SSH with sudo/);
    assert.match(err, /if cp3 is dead for good, switch it off for certain and pass --unreachable/);
    assert.match(err, /cannot run commands on cp1 \(10\.20\.0\.11\)/, 'the control plane that checks the etcd member');
    assert.equal(ctx.api.workloads.nodes.get('cp3')!.unschedulable, undefined, 'not cordoned');
  }));

test('node replace: the first control plane (it runs kubeadm init), the only one, a load balancer, an unknown host, a changed role', () =>
  cluster(async (ctx) => {
    const file = ctx.topology(DEFAULT);
    const err = await refused(ctx, ['node', 'replace', 'cp1', '-f', file], /error\[hosts\[0\]\.name\]: cp1 is the topology's first control plane: its seed runs kubeadm init, so a fresh cp1 would start a second, empty cluster/);
    assert.match(err, /hint: move another control plane above cp1 in hosts/);
    const single = ctx.topology(withoutHost(withoutHost(DEFAULT, 'cp3'), 'cp2'));
    await refused(ctx, ['node', 'replace', 'cp1', '-f', single], /cp1 is the last control plane of the running cluster/);
    await refused(ctx, ['node', 'replace', 'lb1', '-f', file], /error\[hosts\[5\]\.role\]: lb1 is a load balancer: it is no Node of the cluster/);
    await refused(ctx, ['node', 'replace', 'cp4', '-f', file], /cp4 is not a host of the topology \(hosts: cp1, cp2, cp3, worker1, worker2, lb1\)/);
    ctx.api.workloads.nodes.get('worker1')!.controlPlane = true;
    await refused(ctx, ['node', 'replace', 'worker1', '-f', file], /worker1 is a control plane in the running cluster but a worker in the topology/);
  }));

test('node remove|replace: usage errors', () =>
  cluster(async (ctx) => {
    const file = ctx.topology(DEFAULT);
    for (const args of [['--drain-timeout', 'soon'], ['--drain-timeout', '0'], ['--server', 'http://127.0.0.1:1']]) {
      const r = runKubebake(['node', 'replace', 'worker1', '-f', file, '-o', ctx.out, ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(runKubebake(['node', 'remove', '-f', file]).status, 2, 'the name is required');
  }));
