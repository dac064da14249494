// The packer/ tree for each builder, read by tools nobody here wrote: HashiCorp's HCL parser
// (hcl2json) for every template and values file, shellcheck for every script, Debian's
// cloud-init for the build seed. Assertions read the parsed structure, not substrings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from '@cdktf/hcl2json';
import { parse as parseYaml } from 'yaml';
import { buildPlan, type ClusterPlan } from '../../src/plan/plan.js';
import { PLUGINS } from '../../src/topology/facts/packer-plugins.js';
import { renderPackerTree } from '../../src/render/packer/tree.js';
import { buildImageManifests as packerImages, imageSteps, type ImageManifest as PackerImage } from '../../src/manifest/image-manifest.js';
import { buildHostManifests } from '../../src/manifest/host-manifest.js';
import { standaloneScript } from '../../src/steps/scripts.js';
import { fixtureSecrets } from '../helpers/cluster.js';
import { BUILD_USER } from '../../src/steps/sysprep.js';
import { BUILDERS } from '../../src/topology/schema.js';
import type { Builder } from '../../src/topology/types.js';
import type { FileTree } from '../../src/output/tree.js';
import { repoPath, topologyFrom } from '../helpers/repo.js';
import { missingTools, run, shellcheck, tempFiles } from '../helpers/tools.js';
import { held } from '../../src/output/tree.js';

const DEFAULT_PROFILE = readFileSync(repoPath('profiles', 'default.yaml'), 'utf8');

/** profiles/default.yaml with `packer.builder` (and optionally more) set. */
function planFor(builder: Builder, extra = ''): ClusterPlan {
  assert.doesNotMatch(DEFAULT_PROFILE, /^packer:/m, 'the default profile sets no packer section; the tweak appends one');
  return buildPlan(topologyFrom(`${DEFAULT_PROFILE}\npacker:\n  builder: ${builder}\n  outputFormat: raw\n  diskSizeGB: 32\n${extra}`));
}

const text = (tree: FileTree, path: string): string => {
  const f = tree.get(path);
  assert.ok(f, `${path} is in the tree`);
  const content = held(f);
  return typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
};

// Parsed HCL is untyped JSON; the assertions below check its shape.
type Json = Record<string, any>;

async function hcl(tree: FileTree, path: string): Promise<Json> {
  return (await parse(path, text(tree, path))) as Json;
}

/** The step names of the build's provisioners, in order, from the parsed template. */
function provisionerSteps(image: Json, imageName: string): { names: string[]; numbers: number[]; bodies: Json[] } {
  const build = image.build as Json[];
  assert.equal(build.length, 1);
  const provisioners = build[0]!.provisioner as Json;
  assert.deepEqual(Object.keys(provisioners), ['shell'], 'every provisioner is a shell provisioner (hcl2json keeps their order)');
  const bodies = provisioners.shell as Json[];
  const parsed = bodies.map((p) => {
    const m = /^\$\{path\.root\}\/scripts\/(\d\d)-([a-z0-9-]+)\.sh$/.exec(p.script as string);
    assert.ok(m, `${imageName}: script path ${p.script}`);
    return { n: Number(m[1]), name: m[2]! };
  });
  return { names: parsed.map((p) => p.name), numbers: parsed.map((p) => p.n), bodies };
}

const EXPECTED_SOURCE_FIELDS: Record<Builder, string[]> = {
  qemu: ['iso_url', 'iso_checksum', 'disk_image', 'format', 'disk_size', 'output_directory', 'vm_name', 'cd_label', 'cd_content', 'ssh_username', 'ssh_private_key_file', 'shutdown_command'],
  'proxmox-clone': ['proxmox_url', 'username', 'token', 'node', 'clone_vm', 'template_name', 'cloud_init', 'qemu_agent', 'ssh_username'],
  'vsphere-clone': ['vcenter_server', 'username', 'password', 'datacenter', 'cluster', 'datastore', 'template', 'disk_size', 'convert_to_template', 'cd_label', 'cd_content', 'ssh_username', 'ssh_private_key_file', 'shutdown_command'],
};

/** Every `var.x` mentioned in a parsed file. */
function varRefs(json: unknown): Set<string> {
  const found = new Set<string>();
  for (const m of JSON.stringify(json).matchAll(/\bvar\.([A-Za-z_][A-Za-z0-9_]*)/g)) found.add(m[1]!);
  return found;
}

/** [key, string value] of every attribute, at any depth. */
function* stringAttrs(json: unknown, key = ''): Generator<[string, string]> {
  if (typeof json === 'string') yield [key, json];
  else if (Array.isArray(json)) for (const x of json) yield* stringAttrs(x, key);
  else if (json && typeof json === 'object') for (const [k, v] of Object.entries(json)) yield* stringAttrs(v, k);
}

for (const builder of BUILDERS) {
  test(`${builder}: every .pkr.hcl and .pkrvars.hcl parses; source type, plugins, variables, provisioner order`, async () => {
    const plan = planFor(builder);
    const tree = renderPackerTree(plan);
    const images = packerImages(plan);
    assert.deepEqual(images.map((i) => i.name), ['node-ubuntu-24-04', 'load-balancer-ubuntu-24-04']);
    for (const f of tree.files().filter((f) => /\.pkr(vars)?\.hcl$/.test(f.path))) await hcl(tree, f.path);

    for (const image of images) {
      const dir = image.name;
      // plugins.pkr.hcl: exactly the builder's plugin, pinned to one release.
      const plugins = await hcl(tree, `${dir}/plugins.pkr.hcl`);
      const required = plugins.packer[0].required_plugins[0] as Json;
      const pin = PLUGINS[builder];
      assert.deepEqual(Object.keys(required), [pin.name]);
      assert.equal(required[pin.name].source, pin.source);
      assert.match(required[pin.name].version, /^= \d+\.\d+\.\d+$/, 'pinned exactly');
      assert.match(plugins.packer[0].required_version, /^>= 1\.11\.0/);

      // image.pkr.hcl: one source of the builder's type, named after the image.
      const img = await hcl(tree, `${dir}/image.pkr.hcl`);
      assert.deepEqual(Object.keys(img.source), [builder]);
      assert.deepEqual(Object.keys(img.source[builder]), [dir]);
      const source = img.source[builder][dir][0] as Json;
      for (const field of EXPECTED_SOURCE_FIELDS[builder]) assert.ok(field in source, `${dir}: source sets ${field}`);
      assert.equal(source.ssh_username, BUILD_USER);
      assert.deepEqual(img.build[0].sources, [`source.${builder}.${dir}`]);
      if (builder === 'qemu') {
        assert.equal(source.disk_image, true);
        assert.equal(source.cd_label, 'cidata');
        assert.deepEqual(Object.keys(source.cd_content).sort(), ['meta-data', 'user-data']);
      }

      // Variables: everything referenced is declared; values are only given for declared ones.
      const variables = await hcl(tree, `${dir}/variables.pkr.hcl`);
      const declared = variables.variable as Record<string, Json[]>;
      for (const name of varRefs(img)) assert.ok(declared[name], `${dir}: var.${name} is declared`);
      for (const [name, [v]] of Object.entries(declared)) {
        assert.match(v!.type, /^\$\{(string|number|bool)\}$/, `${name} has a type`);
        assert.ok(typeof v!.description === 'string' && v!.description.length > 10, `${name} has a description`);
      }
      const values = await hcl(tree, `${dir}/image.auto.pkrvars.hcl`);
      for (const name of Object.keys(values)) assert.ok(declared[name], `${dir}: pkrvars value ${name} is declared`);
      // A variable with neither a default nor a value is read from PKR_VAR_<name>, and the README says so.
      const readme = text(tree, 'README.md');
      for (const [name, [v]] of Object.entries(declared)) {
        if (!('default' in v!) && !(name in values)) assert.match(readme, new RegExp(`PKR_VAR_${name}\\b`), `${name} is documented`);
      }
      if (builder === 'qemu') {
        assert.equal(values.source_image_url, plan.os.image.url);
        assert.equal(values.source_image_checksum, `file:${plan.os.image.checksumUrl}`);
        assert.equal(values.output_format, 'raw');
        assert.equal(values.disk_size, '32G');
      }
      if (builder === 'vsphere-clone') assert.equal(values.disk_size_mib, 32 * 1024);
      if (image.kind === 'node') assert.equal(values.kubernetes_version, plan.kubernetes.version);

      // Provisioners: cloud-init wait, the image steps, prepull (nodes), runtime, provenance, verify, sysprep (, seal).
      const { names, numbers, bodies } = provisionerSteps(img, dir);
      const expected = [
        'cloud-init-wait',
        ...imageSteps(plan, image.kind, true).map((s) => s.name),
        ...(image.kind === 'node' ? ['prepull'] : []),
        'runtime',
        'provenance',
        'image-verify',
        'sysprep',
        ...(builder === 'proxmox-clone' ? ['seal'] : []),
      ];
      assert.deepEqual(names, expected);
      assert.deepEqual(numbers, expected.map((_, i) => i), 'scripts are numbered in run order');
      for (const b of bodies) assert.match(b.execute_command, /^sudo -n env \{\{ \.Vars \}\} bash '\{\{ \.Path \}\}'$/);
      for (const [i, name] of names.entries()) assert.ok(tree.get(`${dir}/scripts/${String(i).padStart(2, '0')}-${name}.sh`), `${name} script exists`);
      if (builder === 'proxmox-clone') {
        assert.equal(bodies.at(-1)!.skip_clean, true, 'nothing can clean up after the seal step');
        assert.ok(!('shutdown_command' in source), 'proxmox-clone has no shutdown_command');
      } else {
        assert.match(source.shutdown_command, new RegExp(`userdel --force --remove ${BUILD_USER} && .*shutdown -P now`));
      }
    }
  });

  test(`${builder}: no secret is written in any file, only variable references`, async () => {
    const tree = renderPackerTree(planFor(builder));
    for (const f of tree.files()) {
      const content = text(tree, f.path);
      if (/\.pkr(vars)?\.hcl$/.test(f.path)) {
        const json = await hcl(tree, f.path);
        for (const [key, value] of stringAttrs(json)) {
          if (/password|token|secret|private_key/i.test(key)) assert.match(value, /^\$\{var\.[a-z0-9_]+\}$/, `${f.path}: ${key} is a variable reference`);
        }
        if (f.path.endsWith('variables.pkr.hcl')) {
          for (const [name, [v]] of Object.entries((json.variable ?? {}) as Record<string, Json[]>)) {
            if (/password|token|secret/.test(name)) assert.equal(v!.sensitive, true, `${name} is sensitive`);
            if (v!.sensitive) assert.ok(!('default' in v!), `${name} has no default`);
          }
        }
        if (f.path.endsWith('.pkrvars.hcl')) {
          for (const key of Object.keys(json)) assert.doesNotMatch(key, /password|token|secret|private/, `${f.path} sets no credential`);
        }
      }
      assert.doesNotMatch(content, /-----BEGIN [A-Z ]*PRIVATE KEY-----/, `${f.path} holds no private key`);
      assert.doesNotMatch(content, /\b(plain_text_passwd|hashed_passwd|chpasswd)\b/, `${f.path} sets no password`);
    }
  });

  test(`${builder}: every emitted script passes shellcheck -S warning`, { skip: missingTools('shellcheck') }, () => {
    const tree = renderPackerTree(planFor(builder));
    const scripts = Object.fromEntries(tree.files().filter((f) => f.path.endsWith('.sh')).map((f) => [f.path, text(tree, f.path)]));
    assert.ok(Object.keys(scripts).length >= 10);
    for (const f of tree.files().filter((f) => f.path.endsWith('.sh'))) assert.equal(f.mode, 0o755, `${f.path} is executable`);
    assert.equal(shellcheck(scripts), '');
  });

  test(`${builder}: rendering twice gives identical trees`, () => {
    const a = renderPackerTree(planFor(builder)).files();
    const b = renderPackerTree(planFor(builder)).files();
    assert.deepEqual(a, b);
  });
}

test('the node image runs the very steps first-boot user-data runs (one source of truth)', async () => {
  const secrets = await fixtureSecrets();
  for (const builder of BUILDERS) {
    const plan = planFor(builder);
    const tree = renderPackerTree(plan);
    const node = packerImages(plan).find((i: PackerImage) => i.kind === 'node')!;
    const baked = node.provisions.filter((p) => p.phase === 'image').map((p) => p.step);
    // What a first-boot worker and control plane run before the firewall and kubeadm: the same steps.
    for (const host of buildHostManifests({ ...plan, image: 'first-boot' }, secrets).filter((m) => m.node.role !== 'load-balancer')) {
      assert.deepEqual(host.steps.slice(0, 2).map((s) => s.name), ['address', 'resolver']);
      const installs = host.steps.slice(2, 2 + baked.length);
      assert.deepEqual(installs, baked, `${host.node.name}: the install steps equal the image's`);
      assert.deepEqual(host.steps.slice(2 + baked.length).map((s) => s.name), ['firewall', 'bootstrap']);
    }
    // And the packer scripts are those steps, each carrying the helpers it uses.
    baked.forEach((s, i) => assert.equal(text(tree, `${node.name}/scripts/${String(i + 1).padStart(2, '0')}-${s.name}.sh`), standaloneScript(s), `${builder}: ${s.name}`));
    assert.deepEqual(baked, imageSteps(plan, 'node'), 'forImage does not change node steps');
  }
});

test('the build seed is valid cloud-config once Packer fills in the key, and creates only the build user', { skip: missingTools('cloud-init') }, () => {
  for (const builder of ['qemu', 'vsphere-clone'] as const) {
    const tree = renderPackerTree(planFor(builder));
    const template = text(tree, 'node-ubuntu-24-04/cidata/user-data.pkrtpl');
    const sequences = [...template.matchAll(/[$%]\{[^}]*\}/g)].map((m) => m[0]);
    assert.deepEqual(sequences, ['${jsonencode(ssh_public_key)}'], 'the key is the only template sequence');
    // templatefile() with jsonencode: the key becomes a JSON string, i.e. a YAML scalar.
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTestsOnly000000000000000000000 kubebake-build: "x" #1';
    const userData = template.replace('${jsonencode(ssh_public_key)}', JSON.stringify(key));
    const doc = parseYaml(userData, { version: '1.1' }) as { users: { name: string; ssh_authorized_keys: string[]; lock_passwd: boolean }[] };
    assert.equal(doc.users.length, 1);
    assert.equal(doc.users[0]!.name, BUILD_USER);
    assert.deepEqual(doc.users[0]!.ssh_authorized_keys, [key]);
    assert.equal(doc.users[0]!.lock_passwd, true);
    const metaData = parseYaml(text(tree, 'node-ubuntu-24-04/cidata/meta-data')) as Record<string, string>;
    assert.equal(metaData['instance-id'], 'kubebake-build-node-ubuntu-24-04');
    const { dir, cleanup } = tempFiles({ 'user-data': userData });
    try {
      const r = run('cloud-init', ['schema', '--config-file', `${dir}/user-data`]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      cleanup();
    }
  }
  assert.equal(renderPackerTree(planFor('proxmox-clone')).get('node-ubuntu-24-04/cidata/user-data.pkrtpl'), undefined, 'proxmox-clone passes the key through Proxmox');
});

test('every OS profile and CNI renders a parsable tree with shellcheck-clean scripts', { skip: missingTools('shellcheck') }, async () => {
  const variants: [string, string][] = [
    ['debian-12', 'cilium'],
    ['debian-13', 'calico'],
    ['ubuntu-22.04', 'flannel'],
    ['ubuntu-20.04', 'weave'],
  ];
  for (const [os, cni] of variants) {
    // Ubuntu 20.04 boots with cgroup v1: Kubernetes 1.34 is the newest minor it can run; Cilium
    // has a tested release up to 1.35 (src/topology/facts/versions.ts).
    const version = os === 'ubuntu-20.04' ? 'version: "1.34.7"' : cni === 'cilium' ? 'version: "1.35.4"' : '$&';
    const source = DEFAULT_PROFILE.replace(/^os: .*$/m, `os: ${os}`).replace(/plugin: calico/, `plugin: ${cni}`).replace(/version: "1\.\d+\.\d+"/, version);
    const plan = buildPlan(topologyFrom(source));
    const tree = renderPackerTree(plan);
    const slug = os.replace(/\./g, '-');
    assert.ok(tree.get(`node-${slug}/image.pkr.hcl`), `node-${slug}`);
    assert.ok(tree.get(`load-balancer-${slug}/image.pkr.hcl`), `load-balancer-${slug}`);
    for (const f of tree.files().filter((f) => /\.pkr(vars)?\.hcl$/.test(f.path))) await hcl(tree, f.path);
    const values = await hcl(tree, `node-${slug}/image.auto.pkrvars.hcl`);
    assert.equal(values.source_image_checksum, `file:${plan.os.image.checksumUrl}`);
    const scripts = Object.fromEntries(tree.files().filter((f) => f.path.endsWith('.sh')).map((f) => [f.path, text(tree, f.path)]));
    assert.equal(shellcheck(scripts), '', `${os}/${cni}`);
  }
});
