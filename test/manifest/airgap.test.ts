// A restricted network (topology `mirrors` and `proxy`, profiles/airgap.yaml): what the rendered
// output fetches from, CRI-O's registries.conf read by a TOML parser nobody on the team wrote
// (smol-toml), the proxy's noProxy, and `kubebake manifest` / `bundle` against the steps themselves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readTopology } from '../../src/topology/load.js';
import { checkRules } from '../../src/topology/rules.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { extract } from 'tar-stream';
import { parse as parseYaml } from 'yaml';
import { renderPlan } from '../helpers/cluster.js';
import { profile, repoPath } from '../helpers/repo.js';
import { runKubebake } from '../helpers/cli.js';
import { missingTools, run, shellcheck } from '../helpers/tools.js';
import { HASHICORP_RELEASE_KEY_FINGERPRINT } from '../../src/packer/hashicorp-key.js';
import { renderCloudInitTree } from '../../src/render/cloud-init/cluster.js';
import { renderPackerTree } from '../../src/render/packer/tree.js';
import { buildImageManifests } from '../../src/manifest/image-manifest.js';
import { buildArtifactInventory, type ArtifactInventory } from '../../src/manifest/inventory.js';
import { UPSTREAM_DOWNLOAD_HOSTS } from '../../src/plan/sources.js';
import { dropSourcesStep, registriesConf, SOURCE_PATHS } from '../../src/steps/sources.js';
import { APT_SOURCE } from '../../src/steps/helpers.js';
import { buildHostManifests } from '../../src/manifest/host-manifest.js';
import type { RenderPlan } from '../../src/plan/plan.js';
import type { Step } from '../../src/steps/step.js';
import type { FileTree } from '../../src/output/tree.js';
import { held } from '../../src/output/tree.js';

const airgap = await renderPlan(profile('airgap'));
/** The same cluster without mirrors (profiles/airgap.yaml is profiles/default.yaml with mirrors and a proxy). */
const defaultPlan = await renderPlan(profile('default'));

/**
 * Every rendered file of a cluster: cloud-init (all hosts) and Packer; a user-data also as the
 * files it writes, decoded (YAML may fold a long line of a script inside a quoted string).
 */
function renderedFiles(plan: RenderPlan): { path: string; text: string }[] {
  const trees: FileTree[] = [renderCloudInitTree(plan), renderPackerTree(plan)];
  return trees.flatMap((t) =>
    t.files().flatMap((f) => {
      const content = held(f);
      const text = typeof content === 'string' ? content : Buffer.from(content).toString('latin1');
      if (!f.path.endsWith('/user-data')) return [{ path: f.path, text }];
      const doc = parseYaml(text) as { write_files?: { path: string; content: string }[]; runcmd?: unknown };
      return [
        { path: f.path, text },
        { path: `${f.path} runcmd`, text: JSON.stringify(doc.runcmd ?? []) },
        ...(doc.write_files ?? []).map((w) => ({ path: `${f.path} ${w.path}`, text: w.content })),
      ];
    }),
  );
}

/** `host` as the authority of a URL (a download from it), in any file. */
const downloadsFrom = (files: { path: string; text: string }[]): string[] =>
  files.flatMap((f) => UPSTREAM_DOWNLOAD_HOSTS.filter((h) => new RegExp(`://${h.replace(/\./g, '\\.')}([:/"'\\s]|$)`).test(f.text)).map((h) => `${f.path}: ${h}`));

test('airgap profile: no rendered file (user-data, step scripts, Packer templates and scripts, CNI files) downloads from an upstream host', () => {
  const files = renderedFiles(airgap);
  assert.ok(files.length > 40, `${files.length} files`);
  assert.deepEqual(downloadsFrom(files), []);
  // The scan finds them where no mirror is set.
  const found = new Set(downloadsFrom(renderedFiles(defaultPlan)).map((l) => l.split(': ')[1]));
  for (const h of ['pkgs.k8s.io', 'download.opensuse.org', 'raw.githubusercontent.com', 'cloud-images.ubuntu.com']) assert.ok(found.has(h), `${h} not found without mirrors: ${[...found]}`);
});


test("registries.conf parses as TOML (smol-toml) and maps every registry to its mirror; the host's seed carries it", () => {
  const registries = airgap.mirrors!.registries!;
  const conf = parseToml(registriesConf(registries)) as { registry: { prefix: string; location: string; mirror: { location: string }[] }[] };
  assert.deepEqual(
    conf.registry.map((r) => [r.prefix, r.location, r.mirror.map((m) => m.location)]),
    Object.entries(registries).map(([k, v]) => [k, k, [v]]),
  );
  // The seed: the user-data, which carries every step.
  const tree = renderCloudInitTree(airgap);
  const seed = tree.get('hosts/worker1/user-data')!.content as string;
  assert.ok(seed.includes(SOURCE_PATHS.registries), 'the worker writes the drop-in');
});

test('proxy: noProxy keeps the topology entries and adds subnets, the API endpoint, localhost and the cluster domain', () => {
  assert.deepEqual(airgap.proxy!.noProxy, [
    'mirror.lab.example',
    'localhost',
    '127.0.0.1',
    '10.20.0.0/24',
    '10.244.0.0/16',
    '10.96.0.0/12',
    '10.20.0.10',
    '.svc',
    '.cluster.local',
    '.lab.example',
  ]);
});

/** Package names the steps' `apt_get install` lines name (pins and flags stripped). */
function installedBy(steps: readonly Step[]): string[] {
  return steps.flatMap((s) =>
    [...s.body.matchAll(/^\s*apt_get install (.*)$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/).filter((w) => !w.startsWith('-')).map((w) => w.replace(/^"/, '').replace(/[="].*$/, '')),
    ),
  );
}

for (const name of ['airgap', 'default', 'ubuntu-26-04-ha', 'baked']) {
  test(`inventory of ${name}: its packages are exactly what the image steps install (plus the repository's dependencies)`, async () => {
    const plan = await renderPlan(profile(name));
    const m = buildArtifactInventory(plan);
    for (const image of buildImageManifests(plan)) {
      const steps = image.provisions.filter((p) => p.phase === 'image').map((p) => p.step);
      const listed = m.packages.filter((p) => p.hosts.includes(image.kind) && !p.dependencyOf).map((p) => p.name);
      assert.deepEqual([...new Set(installedBy(steps))].sort(), [...listed].sort(), image.name);
    }
    // The CNI's images are the ones the node image pre-pulls.
    const prepull = buildImageManifests(plan).find((i) => i.kind === 'node')!.provisions.find((p) => p.phase === 'prepull')!.step.body;
    for (const i of m.images.filter((i) => i.source === 'cni')) assert.ok(prepull.includes(i.image), i.image);
  });
}

test('kubebake manifest --json and bundle: the tar holds the inventory, a shellcheck-clean fill script and checksums that match', async (t) => {
  const json = runKubebake(['manifest', '-f', 'profiles/airgap.yaml', '--json']);
  assert.equal(json.status, 0, json.stderr);
  const m = JSON.parse(json.stdout) as ArtifactInventory;
  assert.deepEqual(m, JSON.parse(JSON.stringify(buildArtifactInventory(airgap))));
  const out = mkdtempSync(join(tmpdir(), 'kubebake-bundle-'));
  try {
    const r = runKubebake(['bundle', '-f', 'profiles/airgap.yaml', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const entries = await untar(readFileSync(join(out, 'airgap-bundle.tar')));
    assert.deepEqual([...entries.keys()].sort(), ['SHA256SUMS', 'fill-mirror.sh', 'hashicorp-release-key.asc', 'manifest.json', 'mirror/README.md']);
    // The key the script checks Packer's SUMS against is HashiCorp's, by fingerprint (gpg reads it).
    if (!missingTools('gpg')) {
      const home = mkdtempSync('/tmp/kb-gpg-');
      const shown = run('gpg', ['--homedir', home, '--batch', '--with-colons', '--import-options', 'show-only', '--import'], { input: entries.get('hashicorp-release-key.asc')!.toString() }).stdout;
      rmSync(home, { recursive: true, force: true });
      assert.match(shown, new RegExp(`^fpr:+${HASHICORP_RELEASE_KEY_FINGERPRINT.toUpperCase()}:`, 'm'));
    }
    assert.deepEqual(JSON.parse(entries.get('manifest.json')!.toString()), m);
    const sums = entries.get('SHA256SUMS')!.toString().trim().split('\n');
    assert.equal(sums.length, entries.size - 1);
    for (const line of sums) {
      const [sum, path] = line.split('  ');
      assert.equal(createHash('sha256').update(entries.get(path!)!).digest('hex'), sum, path);
    }
    const script = entries.get('fill-mirror.sh')!.toString();
    // It fetches every pinned package and file of the inventory.
    assert.match(script, /repo kubernetes https:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.37\/deb\/ kubelet=1\.37\.2 kubeadm=1\.37\.2 kubectl=1\.37\.2 cri-tools=1\.37\.x kubernetes-cni=newest\n/);
    for (const f of [...m.files, ...m.cloudImage.downloads]) assert.ok(script.includes(`fetch ${f.upstream} files/${f.path}`), f.path);
    const missing = missingTools('shellcheck');
    if (missing) t.skip(missing);
    else assert.equal(shellcheck({ 'fill-mirror.sh': script }), '');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

async function untar(buf: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => chunks.push(c as Buffer));
      stream.on('end', () => {
        out.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(buf);
  await done;
  return out;
}

test('baked images keep the mirrors and proxy for first boot, or drop them before sealing (mirrors.keepInImage: false) and first boot writes them', async () => {
  const t = profile('airgap');
  const names = (steps: readonly Step[]): string[] => steps.map((s) => s.name);
  for (const keepInImage of [true, false]) {
    const plan = await renderPlan({ ...t, image: 'baked', mirrors: { ...t.mirrors!, keepInImage } });
    for (const image of buildImageManifests(plan)) {
      const phases = image.provisions.map((p) => `${p.phase}:${p.step.name}`);
      assert.equal(phases.filter((p) => p.startsWith('image:'))[0], 'image:sources', image.name);
      const drop = phases.indexOf('sysprep:drop-sources');
      if (keepInImage) assert.equal(drop, -1, phases.join(' '));
      else assert.ok(drop >= 0 && drop === phases.indexOf('sysprep:sysprep') - 1, phases.join(' '));
    }
    const worker = buildHostManifests(plan, plan.secrets).find((h) => h.node.role === 'worker')!;
    assert.deepEqual(names(worker.steps), ['address', 'resolver', 'image-check', ...(keepInImage ? [] : ['sources']), 'firewall', 'bootstrap']);
  }
  const dropped = await renderPlan({ ...t, image: 'baked', mirrors: { ...t.mirrors!, keepInImage: false } });
  assert.equal(missingTools('shellcheck') ?? shellcheck({ 'drop-sources.sh': dropSourcesStep(dropped).body }), '');
});

test('drop-sources removes every apt list and keyring the image got from the build site\'s Kubernetes and CRI-O mirrors', async () => {
  const t = profile('airgap');
  // What the image's steps leave behind, read from their scripts: an inline key writes its
  // keyring and list itself; a fetched one goes through apt_source, whose helper names its files.
  const leftBy = (body: string): string[] => [
    ...[...body.matchAll(/> '?(\/etc\/apt\/(?:sources\.list\.d|keyrings)\/[^'\s]+)/g)].map((m) => m[1]!),
    ...[...body.matchAll(/^apt_source '?([^'\s]+)/gm)].flatMap((m) =>
      [...APT_SOURCE.code.matchAll(/(\/etc\/apt\/(?:sources\.list\.d|keyrings)\/)\$1([^"\s]*)/g)].map((p) => `${p[1]}${m[1]}${p[2]}`),
    ),
  ];
  const inline = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ0000xYJKwYBBAHaRw8BAQdAtest\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n';
  for (const key of [undefined, inline]) {
    const mirrors = { ...t.mirrors!, keepInImage: false, kubernetes: { ...t.mirrors!.kubernetes!, key }, crio: { ...t.mirrors!.crio!, key } };
    const plan = await renderPlan({ ...t, image: 'baked', mirrors });
    const node = buildImageManifests(plan).find((i) => i.provisions.some((p) => p.step.name === 'kube-packages'))!;
    const left = node.provisions.filter((p) => p.phase === 'image').flatMap((p) => leftBy(p.step.body));
    assert.ok(left.some((f) => f.includes('kubernetes')) && left.some((f) => f.includes('cri-o')), left.join(' '));
    const drop = node.provisions.find((p) => p.step.name === 'drop-sources')!.step.body;
    for (const f of left) assert.ok(drop.split(/\s/).includes(f), `${f} stays in the image (${key ? 'inline key' : 'fetched key'})`);
  }
  // Without a mirror the upstream repository is no site's: the image keeps it.
  const upstream = await renderPlan({ ...t, image: 'baked', mirrors: { ...t.mirrors!, keepInImage: false, kubernetes: undefined, crio: undefined } });
  assert.doesNotMatch(dropSourcesStep(upstream).body, /kubernetes|cri-o/);
});

test('mirrors.*.keyFile: read next to the topology and used as the key; a missing or unarmored file is an error at its line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-keyfile-'));
  try {
    // A real key (test/fixtures/openpgp): keys are parsed as OpenPGP when the topology is read.
    const key = readFileSync(repoPath('test', 'fixtures', 'openpgp', 'mirror-key.pub.asc'), 'utf8');
    writeFileSync(join(dir, 'k8s.asc'), key);
    writeFileSync(join(dir, 'junk.asc'), 'not a key\n');
    const source = readFileSync(repoPath('profiles', 'airgap.yaml'), 'utf8');
    const withKey = (kubernetes: string, crio: string): string =>
      source
        .replace(/kubernetes: \{ url: ("[^"]+") \}/, `kubernetes: { url: $1, keyFile: ${kubernetes} }`)
        .replace(/crio: \{ url: ("[^"]+") \}/, `crio: { url: $1, keyFile: ${crio} }`);
    writeFileSync(join(dir, 'good.yaml'), withKey('k8s.asc', 'k8s.asc'));
    const good = await readTopology(join(dir, 'good.yaml'));
    // The key as openpgp armours it again (test/topology/mirror-keys.test.ts: gpg reads the same key).
    const armored = good.topology?.mirrors?.kubernetes?.key;
    assert.match(armored ?? '', /^-----BEGIN PGP PUBLIC KEY BLOCK-----\n/, JSON.stringify(good.diagnostics));
    assert.equal(good.topology?.mirrors?.kubernetes?.keyFile, undefined);
    const plan = await renderPlan(good.topology!);
    assert.equal(plan.kubernetes.aptKey, armored);
    writeFileSync(join(dir, 'bad.yaml'), withKey('missing.asc', 'junk.asc'));
    const bad = await readTopology(join(dir, 'bad.yaml'));
    assert.equal(bad.topology, undefined);
    const line = (field: string): number => source.split('\n').findIndex((l) => l.trimStart().startsWith(`${field}: { url:`)) + 1;
    assert.deepEqual(
      bad.diagnostics.filter((d) => d.code === 'mirrors.key-file').map((d) => [d.path.join('.'), d.line, d.message]),
      [
        ['mirrors.kubernetes.keyFile', line('kubernetes'), 'cannot read the signing key file missing.asc (ENOENT)'],
        ['mirrors.crio.keyFile', line('crio'), 'junk.asc is not an ASCII-armored OpenPGP public key'],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mirrors set only in part: a warning names what still comes from upstream; the airgap profile has none', () => {
  const t = profile('airgap');
  const partial = checkRules({ ...t, mirrors: { kubernetes: t.mirrors!.kubernetes, keepInImage: true } });
  assert.deepEqual(
    partial.filter((d) => d.code === 'mirrors.partial').map((d) => [d.severity, d.path, d.message.replace(/:.*/, '')]),
    [['warning', ['mirrors'], 'mirrors is set, but these still come from the internet']],
  );
  const message = partial.find((d) => d.code === 'mirrors.partial')!.message;
  for (const field of ['crio', 'os', 'files', 'registries']) assert.ok(message.includes(`(mirrors.${field})`), message);
  assert.ok(!message.includes('mirrors.kubernetes'), message);
  assert.deepEqual(checkRules(t).filter((d) => d.code.startsWith('mirrors')), []);
});

test('kubebake bundle --from: the files first boot downloads are fetched (here from a local files mirror) into mirror/files/, with their checksums', async () => {
  const m = buildArtifactInventory(airgap);
  const served = mkdtempSync(join(tmpdir(), 'kubebake-files-'));
  const out = mkdtempSync(join(tmpdir(), 'kubebake-bundle-'));
  const bodies = new Map(m.files.map((f) => [f.path, `# ${f.path}: stand-in manifest served by the test\n`]));
  for (const [path, body] of bodies) {
    mkdirSync(dirname(join(served, path)), { recursive: true });
    writeFileSync(join(served, path), body);
  }
  const server = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', served], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      server.stdout.on('data', (c: Buffer) => {
        const p = /port (\d+)/.exec(c.toString())?.[1];
        if (p) resolve(p);
      });
      server.on('exit', () => reject(new Error('http.server exited')));
    });
    const r = await runKubebakeAsync(['bundle', '-f', 'profiles/airgap.yaml', '-o', out, '--from', `http://127.0.0.1:${port}/`]);
    assert.equal(r.status, 0, r.stderr);
    const entries = await untar(readFileSync(join(out, 'airgap-bundle.tar')));
    for (const [path, body] of bodies) assert.equal(entries.get(`mirror/files/${path}`)?.toString(), body, path);
    const sums = entries.get('SHA256SUMS')!.toString();
    for (const path of bodies.keys()) assert.match(sums, new RegExp(`^[0-9a-f]{64}  mirror/files/${path.replace(/\./g, '\\.')}$`, 'm'));
    // A file the mirror lacks: no bundle, the URL named.
    rmSync(join(served, m.files[0]!.path));
    const missing = await runKubebakeAsync(['bundle', '-f', 'profiles/airgap.yaml', '-o', join(out, 'again'), '--from', `http://127.0.0.1:${port}/`]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, new RegExp(`cannot fetch http://127\\.0\\.0\\.1:${port}/${m.files[0]!.path.replace(/\./g, '\\.')}: HTTP 404`));
    assert.ok(!existsSync(join(out, 'again', 'airgap-bundle.tar')));
  } finally {
    server.kill();
    rmSync(served, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

/** The CLI in a child process without blocking this one (the test's server must keep answering). */
function runKubebakeAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [repoPath('bin', 'kubebake.js'), ...args], (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}
