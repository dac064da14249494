// First boot from a site's mirrors, with the real apt: the sandbox (test/helpers/sandbox.ts) serves a
// signed apt mirror in its own network namespace (test/helpers/apt-repo.ts: packages built with
// dpkg-deb under the real names, versions and dependencies, whose commands are the recording
// stand-ins), and the topology's `mirrors` point at it. apt-get, apt-mark and dpkg are the real ones:
// a package missing from the mirror, a bad signature or an unreachable mirror fails as on a host.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { bootInSandbox, hostSeed, sandboxUnavailable, type BootOptions, type BootResult } from '../helpers/sandbox.js';
import { aptMirrorUnavailable, buildAptMirror, type AptMirror } from '../helpers/apt-repo.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import type { Topology } from '../../src/topology/types.js';
import { SOURCE_PATHS } from '../../src/steps/sources.js';
import { buildArtifactInventory } from '../../src/manifest/inventory.js';
import type { RenderPlan } from '../../src/plan/plan.js';

const skip = sandboxUnavailable() ?? aptMirrorUnavailable();
// TEST-NET-2 (RFC 5737): an address nothing else uses, given to the sandbox's loopback.
const ADDRESS = '198.51.100.7';
const PORT = 8080;
const PROXY_PORT = 3128;
const MIRROR_URL = `http://${ADDRESS}:${PORT}`;
const REGISTRIES = { 'registry.k8s.io': 'mirror.test:5000/registry.k8s.io', 'quay.io': 'mirror.test:5000/quay.io', 'docker.io': 'mirror.test:5000/docker.io' };

const base = profile('default');
const mirror: AptMirror | undefined = skip ? undefined : buildAptMirror(base.kubernetes.version);
after(() => mirror && rmSync(mirror.dir, { recursive: true, force: true }));

function topology(extra: Partial<Topology> = {}, key = mirror!.key): Topology {
  return {
    ...base,
    os: 'debian-12', // the sandbox is this Debian 12 machine
    mirrors: {
      kubernetes: { url: `${MIRROR_URL}/kubernetes/`, key },
      crio: { url: `${MIRROR_URL}/cri-o/`, key },
      os: { url: `${MIRROR_URL}/debian/`, key },
      registries: REGISTRIES,
      keepInImage: true,
    },
    ...extra,
  };
}

async function bootCp1<T>(t: Topology, mirrorOpts: Partial<NonNullable<BootOptions['mirror']>>, inspect: (boot: BootResult, plan: RenderPlan) => T): Promise<T> {
  const plan = await renderPlan(t);
  const tree = renderCloudInitTree(plan);
  const cp1 = plan.nodes.find((n) => n.name === 'cp1')!;
  return bootInSandbox(
    { seed: hostSeed(tree, 'cp1'), kubernetesVersion: plan.kubernetes.version, mac: cp1.mac, nic: cp1.interface, mirror: { dir: mirror!.dir, address: ADDRESS, port: PORT, absent: [...mirror!.packages.kubernetes, ...mirror!.packages['cri-o']].map((p) => p.name), ...mirrorOpts } },
    (boot) => inspect(boot, plan),
  );
}

/** dpkg's status file: package → { status, version }. */
function dpkgStatus(text: string): Map<string, { status: string; version: string }> {
  const out = new Map<string, { status: string; version: string }>();
  for (const stanza of text.split(/\n\n+/)) {
    const field = (name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1] ?? '';
    if (field('Package')) out.set(field('Package'), { status: field('Status'), version: field('Version') });
  }
  return out;
}

test('cp1 installs the pinned packages from the signed mirror with the real apt, holds them, and boots to ok', { skip }, () =>
  bootCp1(topology(), {}, (boot, plan) => {
    const log = boot.read('var/log/kubebake/firstboot.log') ?? '';
    assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', log);
    const dpkg = dpkgStatus(boot.read('var/lib/dpkg/status') ?? '');
    for (const p of [...mirror!.packages.kubernetes, ...mirror!.packages['cri-o']]) {
      const held = ['kubeadm', 'kubelet', 'kubectl', 'cri-tools', 'cri-o'].includes(p.name);
      assert.deepEqual(dpkg.get(p.name), { status: `${held ? 'hold' : 'install'} ok installed`, version: p.version }, p.name);
    }
    // The artefact inventory lists exactly what the scripts installed from the mirror: every package of
    // the mirror is installed if and only if the inventory names it for a node, at the version it gives.
    const inventory = buildArtifactInventory(plan).packages.filter((p) => p.hosts.includes('node'));
    for (const p of [...mirror!.packages.kubernetes, ...mirror!.packages['cri-o'], ...mirror!.packages.debian]) {
      const listed = inventory.find((m) => m.name === p.name);
      assert.equal(dpkg.get(p.name)?.status.endsWith('ok installed') ?? false, listed !== undefined, `${p.name}: installed, and listed by the inventory?`);
      if (!listed) continue;
      const v = p.version.replace(/^\d+:/, '');
      if (listed.version.endsWith('.x')) assert.ok(v.startsWith(listed.version.slice(0, -1)), `${p.name} ${v} vs ${listed.version}`);
      else if (!['archive', 'newest'].includes(listed.version)) assert.ok(v.startsWith(`${listed.version}-`), `${p.name} ${v} vs ${listed.version}`);
    }
    // Each .deb came from the mirror (apt fetched it over HTTP), and the signed indexes were read.
    for (const p of [...mirror!.packages.kubernetes, ...mirror!.packages['cri-o']]) {
      assert.ok(boot.mirrorLog.some((l) => new RegExp(`^GET /[a-z-]+/(\\./)?${p.name}_[^ ]+\\.deb 200$`).test(l)), `${p.name}: ${boot.mirrorLog.join('\n')}`);
    }
    for (const repo of ['kubernetes', 'cri-o']) assert.ok(boot.mirrorLog.includes(`GET /${repo}/InRelease 200`), boot.mirrorLog.join('\n'));
    assert.ok(boot.mirrorLog.includes('GET /debian/dists/bookworm/InRelease 200'));
    // Sources signed by their own keyrings; the image's own sources set aside.
    assert.equal(boot.read('etc/apt/sources.list.d/kubernetes.list'), `deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] ${MIRROR_URL}/kubernetes/ /\n`);
    assert.equal(boot.read('etc/apt/sources.list.d/cri-o.list'), `deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.asc] ${MIRROR_URL}/cri-o/ /\n`);
    assert.match(boot.read(SOURCE_PATHS.osSources.slice(1)) ?? '', new RegExp(`URIs: ${MIRROR_URL}/debian/\\nSuites: bookworm bookworm-updates\\n.*\\nSigned-By: ${SOURCE_PATHS.osKeyring}`));
    assert.ok(!boot.exists('etc/apt/sources.list.d/debian.sources') || !boot.read('etc/apt/sources.list.d/debian.sources'));
    // CRI-O's registries: valid TOML naming every mirror.
    const conf = parseToml(boot.read(SOURCE_PATHS.registries.slice(1)) ?? '') as { registry: { prefix: string; mirror: { location: string }[] }[] };
    assert.deepEqual(Object.fromEntries(conf.registry.map((r) => [r.prefix, r.mirror.map((m) => m.location)])), Object.fromEntries(Object.entries(REGISTRIES).map(([k, v]) => [k, [v]])));
  }));

test('with a proxy, every fetch of first boot goes through it', { skip }, () =>
  bootCp1(topology({ proxy: { http: `http://127.0.0.1:${PROXY_PORT}`, noProxy: [] } }), { proxyPort: PROXY_PORT }, (boot) => {
    assert.equal(boot.read('var/lib/kubebake/status'), 'ok\n', boot.read('var/log/kubebake/firstboot.log'));
    assert.ok(boot.mirrorLog.length > 10, boot.mirrorLog.join('\n'));
    // The mirror served exactly what the proxy relayed: nothing reached it directly.
    assert.deepEqual(
      boot.proxyLog.map((l) => l.replace(` ${MIRROR_URL}/`, ' /')).sort(),
      [...boot.mirrorLog].sort(),
    );
    for (const unit of ['crio', 'kubelet']) {
      const dropIn = boot.read(SOURCE_PATHS.proxyDropIn(unit).slice(1)) ?? '';
      assert.match(dropIn, new RegExp(`Environment="HTTP_PROXY=http://127\\.0\\.0\\.1:${PROXY_PORT}"`), unit);
      const noProxy = /Environment="NO_PROXY=([^"]+)"/.exec(dropIn)?.[1]?.split(',') ?? [];
      for (const must of ['localhost', '127.0.0.1', '10.20.0.0/24', '10.244.0.0/16', '10.96.0.0/12', '10.20.0.10', '.cluster.local']) assert.ok(noProxy.includes(must), `${unit} NO_PROXY lacks ${must}: ${noProxy}`);
    }
  }));

test('with the mirror switched off, the status names the unreachable mirror', { skip }, () =>
  bootCp1(topology(), { off: true }, (boot) => {
    assert.match(boot.read('var/lib/kubebake/status') ?? '', new RegExp(`^failed: base: apt-get update failed: mirror unreachable: ${ADDRESS.replace(/\./g, '\\.')}:${PORT} `), boot.read('var/log/kubebake/firstboot.log'));
    assert.equal(boot.mirrorLog.length, 0);
  }));

test('a package missing from the mirror fails its step as apt does; a mirror signed by another key is refused', { skip }, () => {
  const partial = buildAptMirror(base.kubernetes.version, { omit: ['kubectl'] });
  try {
    // (The runner cuts the status at 200 characters.) `partial` signed its indexes with a key of its own: a topology that gives another key for
    // the Kubernetes mirror (here `mirror`'s) must not install from it.
    const trusting = (key: string): Topology => {
      const t = topology({}, partial.key);
      return { ...t, mirrors: { ...t.mirrors!, kubernetes: { url: `${MIRROR_URL}/kubernetes/`, key } } };
    };
    return bootCp1(trusting(partial.key), { dir: partial.dir }, (boot) => {
      assert.match(boot.read('var/lib/kubebake/status') ?? '', /^failed: kube-packages: apt-get install .* failed: package missing from the repository: Version '[^']+' for 'kubect/, boot.read('var/log/kubebake/firstboot.log'));
    }).then(() =>
      bootCp1(trusting(mirror!.key), { dir: partial.dir }, (boot) => {
        const log = boot.read('var/log/kubebake/firstboot.log') ?? '';
        assert.equal(
          boot.read('var/lib/kubebake/status'),
          `failed: kube-packages: apt-get update failed: repository signature not trusted: ${MIRROR_URL}/kubernetes  InRelease (check its signing key, mirrors.*.key in the topology)\n`,
          log,
        );
        assert.ok(!/^Package: kubeadm$/m.test(boot.read('var/lib/dpkg/status') ?? ''), 'nothing installed from the untrusted repository');
        assert.match(log, /NO_PUBKEY/);
        // Not retried: another attempt cannot fix a key.
        assert.doesNotMatch(log, /apt-get update failed \(attempt/);
      }),
    ).finally(() => rmSync(partial.dir, { recursive: true, force: true }));
  } catch (e) {
    rmSync(partial.dir, { recursive: true, force: true });
    throw e;
  }
});
