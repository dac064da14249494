// The property behind issue 23: no topology value can become code in anything kubebake writes.
// Every string field of the topology schema (found by walking the schema itself, so a new field
// is covered the day it is added) gets a corpus of metacharacters — quotes, $(), backticks,
// newlines, ";", "#", here-document terminators, "\", NUL, Unicode line separators, "${", "%{" —
// as its whole value, appended, and inside its value, plus seeded random strings. Each value is
// either refused by validation with an error at the field's own line, or accepted, and then:
// - everything renders (every delivery form, the PXE scripts serve answers with, the Packer tree,
//   the bundle's script) without throwing (the CLI's exit 70) and without a verify problem;
// - every script that differs from the unchanged topology's passes `bash -n`/`sh -n` and
//   `shellcheck -S warning`; haproxy -c, nft -c, grub-script-check, keepalived -t, the HCL parser
//   and PyYAML (cloud-init's YAML reader) accept every changed config, and each debconf value of
//   a preseed stays on its line;
// - a script carrying `kbcanary` (a command only the canary sandbox has) never runs it
//   (test/helpers/canary-sandbox.ts).
// Deterministic: EMBED_SEED picks other random strings; EMBED_FUZZ sets how many per field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { parse as parseYaml } from 'yaml';
import { loadTopology } from '../../src/topology/load.js';
import { resolveKeyFiles } from '../../src/topology/key-files.js';
import { topologySchema } from '../../src/topology/schema.js';
import type { Topology } from '../../src/topology/types.js';
import { CANARY, canarySandboxUnavailable, scriptsRunningCanary } from '../helpers/canary-sandbox.js';
import { renderAll, type Emitted, type Script } from '../helpers/render-all.js';
import { profile, repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { haproxyCheck, keepalivedCheck, missingTools, run, shellcheck, tempFiles } from '../helpers/tools.js';

const SEED = Number(process.env.EMBED_SEED ?? 0x23);
const FUZZ_PER_FIELD = Number(process.env.EMBED_FUZZ ?? 12);

const PUBLIC_KEY = readFileSync(repoPath('test', 'fixtures', 'openpgp', 'mirror-key.pub.asc'), 'utf8');
const CA_CERT = profile('airgap').mirrors!.caCertificates![0]!;

/**
 * Every optional part present, so that each field exists and reaches its outputs: PXE (MACs,
 * install disks, delivery.server), Debian's preseed, ingress with a node selector, labels and
 * taints, mirrors, registries, CAs, a proxy, an override. A mirror gets its signing key (inline
 * or in a file) only when that field is the one tried: parsing keys is most of a load's time.
 */
const BASE = `apiVersion: kubebake/v1alpha1
kind: Cluster
name: prop
kubernetes:
  version: "1.37.2"
  crio: "1.37.0"
os: debian-12
cni:
  plugin: calico
network:
  nodeSubnet: 10.40.0.0/24
  gateway: 10.40.0.1
  dns: [10.40.0.2, 10.40.0.3]
  searchDomain: lab.example
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  etcHosts: auto
apiEndpoint:
  loadBalancer: lb1
  port: 6443
  dnsName: api.lab.example
ingress:
  - name: https
    port: 443
    nodePort: 30443
    targets: workers
    nodeSelector:
      node-role.kubernetes.io/ingress: ""
hosts:
  - name: cp1
    role: control-plane
    ip: 10.40.0.11
    mac: "52:54:00:40:00:11"
    installDisk: /dev/disk/by-id/ata-QEMU_HARDDISK_QM00001
  - name: worker1
    role: worker
    ip: 10.40.0.21
    mac: "52:54:00:40:00:21"
    interface: ens3
    installDisk: /dev/sda
    labels:
      node-role.kubernetes.io/ingress: ""
      tier: web
    taints:
      - key: dedicated
        value: ingress
        effect: NoSchedule
  - name: lb1
    role: load-balancer
    ip: 10.40.0.10
    mac: "52:54:00:40:00:10"
    interface: ens3
access:
  adminUser: kubeadmin
  sshAuthorizedKeys:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEGcHMUvHXKQHL4NA1j0cWpsnLWRI9eTmD+Ccd3AgkBh operator@example
firewall: open-required-ports
image: first-boot
bootstrap:
  tokenTTL: 24h
packer:
  builder: qemu
  outputFormat: qcow2
delivery:
  server: http://10.40.0.5:8080
  proxmox:
    snippetStorage: local
mirrors:
  kubernetes:
    url: "https://mirror.lab.example/k8s/"
  crio:
    url: "https://mirror.lab.example/cri-o/"
  os:
    url: "http://mirror.lab.example/debian/"
    securityUrl: "http://mirror.lab.example/debian-security/"
  registries:
    registry.k8s.io: mirror.lab.example:5000/registry.k8s.io
    docker.io: mirror.lab.example:5000/docker.io
  files: "https://mirror.lab.example/files/"
  caCertificates:
    - CERT
  keepInImage: true
proxy:
  http: http://proxy.lab.example:3128
  https: http://proxy.lab.example:3128
  noProxy: [mirror.lab.example, .lab.example, 10.0.0.0/8]
overrides:
  - check: etcd-quorum
    reason: a lab cluster, rebuilt at will
`;

function baseDocument(variant: 'load-balancer' | 'vip'): Document {
  const doc = parseDocument(BASE);
  doc.setIn(['mirrors', 'caCertificates', 0], CA_CERT);
  if (variant === 'vip') {
    // The other endpoint and the other image mode: keepalived, and steps baked into an image.
    doc.deleteIn(['apiEndpoint', 'loadBalancer']);
    doc.setIn(['apiEndpoint', 'vip'], doc.createNode({ address: '10.40.0.100', routerId: 51 }));
    doc.setIn(['image'], 'baked');
  }
  return doc;
}

// --- the schema's string fields --------------------------------------------------------------
type Step = string | '[]' | '{key}' | '{value}';
interface Field { template: Step[]; slot: 'value' | 'key' }
interface SchemaNode { type?: string; enum?: unknown[]; const?: unknown; properties?: Record<string, SchemaNode>; items?: SchemaNode; additionalProperties?: SchemaNode | boolean; propertyNames?: object }

/** Every place a string goes in a topology: properties, list items, mapping keys (propertyNames) and values. */
function stringFields(s: SchemaNode, at: Step[] = [], out: Field[] = []): Field[] {
  if (s.properties || s.propertyNames || typeof s.additionalProperties === 'object') {
    for (const [k, v] of Object.entries(s.properties ?? {})) stringFields(v, [...at, k], out);
    if (s.propertyNames) out.push({ template: [...at, '{key}'], slot: 'key' });
    if (typeof s.additionalProperties === 'object') stringFields(s.additionalProperties, [...at, '{value}'], out);
  } else if (s.type === 'array' && s.items) stringFields(s.items, [...at, '[]'], out);
  else if (s.type === 'string' || [...(s.enum ?? []), ...(s.const !== undefined ? [s.const] : [])].some((x) => typeof x === 'string')) {
    out.push({ template: at, slot: 'value' });
  }
  return out;
}
const FIELDS = stringFields(topologySchema as unknown as SchemaNode);

/** The existing entry each field is tried on: worker1 among hosts, a map's own key. */
const MAP_KEYS: Record<string, string> = { labels: 'tier', nodeSelector: 'node-role.kubernetes.io/ingress', registries: 'docker.io' };
function concrete(field: Field): (string | number)[] {
  return field.template.map((step, i) => {
    if (step === '[]') return field.template[i - 1] === 'hosts' ? 1 : 0;
    if (step === '{key}' || step === '{value}') return MAP_KEYS[String(field.template[i - 1])]!;
    return step;
  });
}
const fieldName = (f: Field): string => f.template.join('.').replace(/\.\[\]/g, '[]') + (f.slot === 'key' ? ' (key)' : '');

/** A plain value where the base has none: a mirror's signing key, inline or in a file (written next to the topology). */
const ABSENT: Record<string, string> = Object.fromEntries(
  ['kubernetes', 'crio', 'os'].flatMap((m) => [[`mirrors.${m}.key`, PUBLIC_KEY], [`mirrors.${m}.keyFile`, 'mirror-key.asc']]),
);

/** The document with `value` at the field (a renamed key for a mapping key). */
function withValue(base: Document, field: Field, path: (string | number)[], value: string): Document {
  const doc = base.clone();
  if (field.slot === 'key') {
    const map = doc.getIn(path.slice(0, -1), true) as YAMLMap;
    const pair = (map.items as Pair[]).find((p) => isScalar(p.key) && p.key.value === path.at(-1))!;
    pair.key = doc.createNode(value);
    // A selector whose key no host has is an error of its own: the worker gets the label too.
    if (path.includes('nodeSelector')) doc.setIn(['hosts', 1, 'labels', value], '');
    return doc;
  }
  doc.setIn(path, value);
  return doc;
}

function baseValue(base: Document, field: Field, path: (string | number)[]): string | undefined {
  if (field.slot === 'key') return String(path.at(-1));
  const v = base.getIn(path);
  return typeof v === 'string' ? v : ABSENT[path.join('.')];
}

/** The lines a diagnostic about this field may point at: its value's (or key's) and its key's. */
function fieldLines(text: string, field: Field, path: (string | number)[], value: string): Set<number> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const lines = new Set<number>();
  const addNode = (n: Node | undefined | null): void => {
    if (!n?.range) return;
    const from = lineCounter.linePos(n.range[0]).line;
    const to = lineCounter.linePos(Math.max(n.range[0], n.range[1] - 1)).line;
    for (let l = from; l <= to; l++) lines.add(l);
  };
  const keyPath = field.slot === 'key' ? [...path.slice(0, -1), value] : path;
  const parent = doc.getIn(keyPath.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = (parent.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(keyPath.at(-1)));
    addNode(pair?.key as Node | undefined);
    addNode(pair?.value as Node | undefined);
  } else addNode(doc.getIn(keyPath, true) as Node | undefined);
  if (field.slot === 'key' && path.includes('nodeSelector')) addNode(doc.getIn(['hosts', 1, 'labels'], true) as Node);
  return lines;
}

// --- the values tried --------------------------------------------------------------------------
const CORPUS = [
  "'", '"', '$(kbcanary)', '`kbcanary`', ';kbcanary;', '\nkbcanary\n', ' && kbcanary', '|| kbcanary', '|kbcanary', '#', ' # kbcanary',
  '\\', '\\\n', '\u0000', '\u2028kbcanary', '\u2029', '\u0085', '${kbcanary}', '$kbcanary', '$((1))', '%{kbcanary}', '${IFS}kbcanary',
  '\nEOF_KUBEBAKE\nkbcanary\n', '\nEOF_KEY\nkbcanary\n', '\nEOF_KUBEBAKE_RUNTIME\nkbcanary\n', '\nEOF_PROVENANCE\nkbcanary\n', '\nRULES\nkbcanary\n',
  '\r\nkbcanary', '\t', ' ', '*', '?', '~', '\u001b[2J', '-kbcanary', '../kbcanary', ':', ',', '=', '@', '%0a', '+', '/', '<kbcanary', '>kbcanary',
  '{', '}', '[', ']', '!', "'$(kbcanary)'", '"$(kbcanary)"', '\nruncmd: [kbcanary]\n', '\n- kbcanary', '\n}\nkbcanary {\n', '"\nkbcanary = "', '\u007f', '\u202e',
];

/** The three ways a corpus value goes in: alone, after the field's value, inside it (before its last line or in its middle). */
function placements(base: string | undefined, v: string): string[] {
  if (base === undefined) return [v];
  const cut = base.includes('\n') ? base.trimEnd().lastIndexOf('\n') + 1 : Math.ceil(base.length / 2);
  return [v, base + v, base.slice(0, cut) + v + base.slice(cut)];
}

// --- a small seeded PRNG (mulberry32, as the loader's fuzz test) -------------------------------
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const FUZZ_CHARS = [..."abcz09AZ-_.:/@%+,=~*?!#$`'\"\\;&|<>(){}[] \t\n\r", '\u0000', '\u0085', '\u2028', '\u00e9', '\u{1F4A5}', 'EOF_KUBEBAKE', 'EOF_KEY', '$(', '${', '%{', 'kbcanary'];
function fuzzValue(r: () => number, base: string | undefined): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const noise = Array.from({ length: 1 + Math.floor(r() * 6) }, () => pick(FUZZ_CHARS)).join('');
  if (base === undefined || r() < 0.3) return noise;
  const at = Math.floor(r() * (base.length + 1));
  return base.slice(0, at) + noise + base.slice(at);
}

// --- running the cases ---------------------------------------------------------------------------
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

interface Pools {
  scripts: Map<string, Script & { origin: string }>;
  haproxy: Map<string, { text: string; origin: string }>;
  nft: Map<string, { text: string; origin: string }>;
  grub: Map<string, { text: string; origin: string }>;
  hcl: Map<string, { name: string; text: string; origin: string }>;
  yaml: Map<string, { name: string; text: string; origin: string }>;
  preseed: Map<string, { name: string; text: string; origin: string }>;
  keepalived: Map<string, { conf: string; check: string; origin: string }>;
  kernelArgs: Map<string, { name: string; args: string[]; origin: string }>;
}
const emptyPools = (): Pools => ({ scripts: new Map(), haproxy: new Map(), nft: new Map(), grub: new Map(), hcl: new Map(), yaml: new Map(), preseed: new Map(), keepalived: new Map(), kernelArgs: new Map() });

/** Adds what `e` has and no base render had: what a value changed is what gets checked. */
function pool(pools: Pools, seen: Set<string>, e: Emitted, origin: string): void {
  const add = <T extends object>(m: Map<string, T & { origin: string }>, key: string, item: T): void => {
    const h = sha(key);
    if (!seen.has(h) && !m.has(h)) m.set(h, { ...item, origin });
  };
  for (const s of e.scripts) add(pools.scripts, `${s.shell}\0${s.text}`, s);
  for (const t of e.haproxy) add(pools.haproxy, t, { text: t });
  for (const t of e.nft) add(pools.nft, t, { text: t });
  for (const t of e.grub) add(pools.grub, t, { text: t });
  for (const f of e.hcl) add(pools.hcl, f.text, f);
  for (const f of e.yaml) add(pools.yaml, f.text, f);
  for (const f of e.preseed) add(pools.preseed, f.text, f);
  for (const k of e.keepalived) add(pools.keepalived, k.conf + k.check, k);
  for (const k of e.kernelArgs) add(pools.kernelArgs, `${k.name}\0${k.args.join('\0')}`, k);
}

function baseHashes(e: Emitted): Set<string> {
  const seen = new Set<string>();
  const pools = emptyPools();
  pool(pools, new Set(), e, 'base');
  for (const m of Object.values(pools) as Map<string, unknown>[]) for (const h of m.keys()) seen.add(h);
  return seen;
}

interface Outcome { refused: number; accepted: number; failures: string[]; acceptedBy: Map<string, number> }

async function collect(): Promise<{ corpus: Outcome; fuzz: Outcome; pools: Pools; fields: number }> {
  return withTempDir(async (dir) => {
    writeFileSync(join(dir, 'mirror-key.asc'), PUBLIC_KEY);
    const bases = { 'load-balancer': baseDocument('load-balancer'), vip: baseDocument('vip') };
    const load = async (text: string): Promise<Awaited<ReturnType<typeof resolveKeyFiles>>> => resolveKeyFiles(loadTopology(text, 'prop.yaml'), dir);
    const pools = emptyPools();
    const seen = new Set<string>();
    for (const doc of Object.values(bases)) {
      const loaded = await load(String(doc));
      assert.ok(loaded.topology, `a base topology is invalid: ${JSON.stringify(loaded.diagnostics.filter((d) => d.severity === 'error'))}`);
      const e = await renderAll(loaded.topology);
      assert.deepEqual(e.verify, []);
      for (const h of baseHashes(e)) seen.add(h);
    }
    const tryValue = async (outcome: Outcome, field: Field, variant: keyof typeof bases, value: string, label: string): Promise<void> => {
      const path = concrete(field);
      const text = String(withValue(bases[variant], field, path, value));
      const where = `${fieldName(field)} = ${JSON.stringify(value)} (${label}, ${variant})`;
      const loaded = await load(text);
      if (!loaded.topology) {
        outcome.refused++;
        const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
        const lines = fieldLines(text, field, path, value);
        if (!errors.some((d) => lines.has(d.line!) && d.col! >= 1)) {
          outcome.failures.push(`${where}: refused, but no error at the field's line(s) ${[...lines].join(',')}: ${errors.map((d) => `${d.line}:${d.col} ${d.message}`).join(' | ')}`);
        }
        return;
      }
      outcome.accepted++;
      outcome.acceptedBy.set(fieldName(field), (outcome.acceptedBy.get(fieldName(field)) ?? 0) + 1);
      let e: Emitted;
      try {
        e = await renderAll(loaded.topology as Topology);
      } catch (err) {
        outcome.failures.push(`${where}: accepted, but rendering threw (the CLI's exit 70): ${(err as Error).stack}`);
        return;
      }
      if (e.verify.length) outcome.failures.push(`${where}: accepted, but verify refuses the render: ${e.verify.join('; ')}`);
      pool(pools, seen, e, where);
    };
    const variantOf = (f: Field): keyof typeof bases => (f.template.includes('vip') ? 'vip' : 'load-balancer');
    const started = performance.now();
    const corpus: Outcome = { refused: 0, accepted: 0, failures: [], acceptedBy: new Map() };
    const fuzz: Outcome = { refused: 0, accepted: 0, failures: [], acceptedBy: new Map() };
    for (const [f, field] of FIELDS.entries()) {
      const variant = variantOf(field);
      const base = baseValue(bases[variant], field, concrete(field));
      // Each corpus value goes in one of its three ways, turn by turn across values and fields, so
      // that every way of every value is tried on a third of the fields (all of them at once would
      // triple the run; EMBED_FUZZ's random strings add the rest).
      for (const [c, v] of CORPUS.entries()) {
        const ways = placements(base, v);
        const i = (c + f) % ways.length;
        await tryValue(corpus, field, variant, ways[i]!, ['alone', 'appended', 'inside'][i]!);
      }
      // The metacharacters also go into the other base (baked image, VIP), a quarter of them, appended.
      // (Only where the other base has the field as this one does: it has no apiEndpoint.loadBalancer.)
      const both = variant === 'load-balancer' && base !== undefined && baseValue(bases.vip, field, concrete(field)) === base;
      if (both) for (const [c, v] of CORPUS.entries()) if ((c + f) % 4 === 0) await tryValue(corpus, field, 'vip', base + v, 'appended');
      const r = rng(SEED ^ parseInt(sha(fieldName(field)).slice(0, 8), 16));
      for (let n = 0; n < FUZZ_PER_FIELD; n++) await tryValue(fuzz, field, both && n % 2 ? 'vip' : variant, fuzzValue(r, base), `fuzz ${n}, seed ${SEED}`);
    }
    if (process.env.EMBED_PROGRESS) console.error(`collected in ${Math.round(performance.now() - started)} ms`);
    return { corpus, fuzz, pools, fields: FIELDS.length };
  });
}

const collected = collect();
const show = (failures: string[]): string => `${failures.length} failures:\n${failures.slice(0, 15).join('\n')}`;

test(`the schema walk finds every string field (${FIELDS.length}): mapping keys and values, list items, enums`, () => {
  const names = FIELDS.map(fieldName);
  for (const f of ['name', 'hosts[].labels.{key} (key)', 'hosts[].labels.{value}', 'access.sshAuthorizedKeys[]', 'mirrors.os.key', 'mirrors.registries.{key} (key)', 'overrides[].reason', 'delivery.server', 'proxy.noProxy[]', 'os']) {
    assert.ok(names.includes(f), `${f} not found among ${names.join(', ')}`);
  }
  assert.ok(FIELDS.length >= 60, `${FIELDS.length} fields`);
});

test('every string field × the metacharacter corpus: refused at the field\'s line, or rendered without a throw or a verify problem', { timeout: 600_000 }, async (t) => {
  const { corpus, fields } = await collected;
  t.diagnostic(`${fields} fields, ${corpus.refused + corpus.accepted} values: ${corpus.refused} refused, ${corpus.accepted} accepted and rendered`);
  t.diagnostic(`accepted, by field: ${[...corpus.acceptedBy].map(([f, n]) => `${f} ${n}`).join(', ')}`);
  assert.deepEqual(corpus.failures, [], show(corpus.failures));
  assert.ok(corpus.accepted > 100, 'the corpus reaches the renderers');
});

test(`every string field × ${FUZZ_PER_FIELD} random strings (seed ${SEED}): what validation accepts renders`, { timeout: 600_000 }, async (t) => {
  const { fuzz } = await collected;
  t.diagnostic(`${fuzz.refused + fuzz.accepted} values: ${fuzz.refused} refused, ${fuzz.accepted} accepted and rendered`);
  assert.deepEqual(fuzz.failures, [], show(fuzz.failures));
});

test('every script a value changed parses (bash -n, sh -n) and passes shellcheck -S warning', { skip: missingTools('shellcheck'), timeout: 600_000 }, async (t) => {
  const scripts = [...(await collected).pools.scripts.values()];
  const byField = new Map<string, number>();
  for (const s of scripts) byField.set(s.origin.split(' = ')[0]!, (byField.get(s.origin.split(' = ')[0]!) ?? 0) + 1);
  t.diagnostic(`${scripts.length} distinct changed scripts; by field: ${[...byField].map(([f, n]) => `${f} ${n}`).join(', ')}`);
  const failures: string[] = [];
  for (const s of scripts) {
    const r = spawnSync(s.shell === 'sh' ? 'sh' : 'bash', ['-n'], { input: s.text, encoding: 'utf8' });
    if (r.status !== 0) failures.push(`${s.origin} → ${s.name}: ${s.shell} -n: ${r.stderr}`);
  }
  for (const shell of ['bash', 'sh'] as const) {
    const group = scripts.filter((s) => s.shell === shell);
    for (let i = 0; i < group.length; i += 200) {
      const batch = group.slice(i, i + 200);
      const report = shellcheck(Object.fromEntries(batch.map((s, k) => [`${k}:${s.name}`, shell === 'sh' ? s.text.replace(/^#!\/bin\/bash/, '#!/bin/sh') : s.text])));
      if (report) failures.push(`shellcheck (${shell}): ${report.slice(0, 3000)} (first script: ${batch[0]!.origin})`);
    }
  }
  assert.deepEqual(failures, [], show(failures));
});

test('no value runs as a command: the changed scripts that carry the canary never run it', { skip: canarySandboxUnavailable(), timeout: 600_000 }, async (t) => {
  const scripts = [...(await collected).pools.scripts.values()].filter((s) => s.text.includes(CANARY));
  t.diagnostic(`${scripts.length} scripts carry the canary`);
  // The sandbox itself: a script that does run the canary is caught, in bash and in sh.
  const control = await scriptsRunningCanary([
    { name: 'control-bash', text: `#!/bin/bash\nset -euo pipefail\nsomething-missing\nx=$(${CANARY})\n`, shell: 'bash' },
    { name: 'control-sh', text: `#!/bin/sh\n${CANARY}\n`, shell: 'sh' },
    { name: 'control-quoted', text: `#!/bin/bash\necho '$(${CANARY})'\n`, shell: 'bash' },
  ]);
  assert.deepEqual(control, ['control-bash', 'control-sh']);
  const ran = await scriptsRunningCanary(scripts);
  const byName = new Map(scripts.map((s) => [s.name, s.origin]));
  assert.deepEqual(ran.map((n) => `${byName.get(n)} → ${n}`), []);
});

test('every config a value changed passes its own tool: haproxy -c, nft -c, grub-script-check, keepalived -t, the HCL parser', { skip: missingTools('haproxy', 'nft', 'grub-script-check', 'keepalived', 'unshare', 'ip') ?? (process.getuid?.() !== 0 ? 'needs root (namespaces)' : undefined), timeout: 600_000 }, async (t) => {
  const { pools } = await collected;
  t.diagnostic(`changed: ${pools.haproxy.size} haproxy.cfg, ${pools.nft.size} rulesets, ${pools.grub.size} grub.cfg, ${pools.keepalived.size} keepalived.conf, ${pools.hcl.size} HCL files`);
  const failures: string[] = [];
  for (const { text, origin } of pools.haproxy.values()) {
    const r = haproxyCheck(text);
    if (r.status !== 0) failures.push(`${origin}: haproxy -c: ${r.stdout}${r.stderr}`);
  }
  for (const { text, origin } of pools.nft.values()) {
    const r = spawnSync('unshare', ['--net', 'nft', '-c', '-f', '-'], { input: text, encoding: 'utf8' });
    if (r.status !== 0) failures.push(`${origin}: nft -c: ${r.stderr}`);
  }
  for (const { text, origin } of pools.grub.values()) {
    const { dir, cleanup } = tempFiles({ 'grub.cfg': text });
    try {
      const r = run('grub-script-check', [join(dir, 'grub.cfg')]);
      if (r.status !== 0) failures.push(`${origin}: grub-script-check: ${r.stdout}${r.stderr}`);
    } finally {
      cleanup();
    }
  }
  for (const { conf, check, origin } of pools.keepalived.values()) {
    const r = keepalivedCheck(conf.replaceAll('/usr/local/lib/kubebake/check-haproxy.sh', '/etc/keepalived/check-haproxy.sh'), { 'check-haproxy.sh': check });
    if (r.status !== 0) failures.push(`${origin}: keepalived -t: ${r.stdout}${r.stderr}`);
  }
  for (const { name, text, origin } of pools.hcl.values()) {
    try {
      await parseHcl(name, text);
    } catch (e) {
      failures.push(`${origin} → ${name}: HCL: ${String((e as Error).message ?? e)}`);
    }
  }
  assert.deepEqual(failures, [], show(failures));
});

/** PyYAML as cloud-init and subiquity run it (Debian's /usr/bin/python3): each document as JSON, or its error. */
const PYYAML = `
import json, sys, yaml
out = []
for text in json.load(sys.stdin):
    try:
        out.append({"ok": yaml.safe_load(text)})
    except Exception as e:
        out.append({"error": str(e)})
print(json.dumps(out, default=str))
`;

test('every YAML file a value changed reads the same with PyYAML (cloud-init\'s reader) as it was written; every preseed value stays on its line', { timeout: 600_000 }, async (t) => {
  const { pools } = await collected;
  const docs = [...pools.yaml.values()];
  t.diagnostic(`${docs.length} changed YAML files, ${pools.preseed.size} changed preseed files`);
  const failures: string[] = [];
  for (let i = 0; i < docs.length; i += 300) {
    const batch = docs.slice(i, i + 300);
    const r = spawnSync('/usr/bin/python3', ['-c', PYYAML], { input: JSON.stringify(batch.map((d) => d.text)), encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
    assert.equal(r.status, 0, r.stderr);
    const read = JSON.parse(r.stdout) as ({ ok: unknown } | { error: string })[];
    batch.forEach((d, k) => {
      const got = read[k]!;
      if ('error' in got) failures.push(`${d.origin} → ${d.name}: PyYAML: ${got.error}`);
      else {
        // JSON both ways: PyYAML's datetimes would print as strings; kubebake writes none.
        const written = JSON.parse(JSON.stringify(parseYaml(d.text, { version: '1.1' }))) as unknown;
        try {
          assert.deepEqual(got.ok, written);
        } catch {
          failures.push(`${d.origin} → ${d.name}: PyYAML reads another value than was written`);
        }
      }
    });
  }
  for (const { name, text, origin } of pools.preseed.values()) {
    for (const line of text.split('\n').slice(0, -1)) {
      if (line.startsWith('#')) continue;
      // debconf-set-selections joins a line ending in "\" with the next (debconf 1.5.82).
      if (!/^[a-z0-9-]+ [a-z0-9/_-]+ (string|boolean|select|multiselect|password|note)( [^\u0000-\u001f\u007f\u0085\u2028\u2029]*)?$/.test(line) || line.endsWith('\\')) failures.push(`${origin} → ${name}: not one debconf line: ${JSON.stringify(line)}`);
    }
  }
  assert.deepEqual(failures, [], show(failures));
});

test('every kernel command line a value changed has one literal word per argument (no space, no ", printable ASCII)', async (t) => {
  const { pools } = await collected;
  t.diagnostic(`${pools.kernelArgs.size} changed command lines`);
  // The kernel splits on whitespace and takes " as unescapable quoting (torvalds/linux lib/cmdline.c next_arg).
  const failures = [...pools.kernelArgs.values()].flatMap(({ name, args, origin }) =>
    args.filter((a) => !/^[!#-~]+$/.test(a)).map((a) => `${origin} → ${name}: kernel argument ${JSON.stringify(a)}`),
  );
  assert.deepEqual(failures, [], show(failures));
});
