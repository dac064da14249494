// The PXE tree (src/render/delivery/pxe), read back the way the machines and tools that consume it
// would: cloud-init's own kernel-command-line parsers (Debian's cloud-init 22.4.2, as python3
// modules), GRUB's grub-script-check, a POSIX shell for GRUB's single-quote words, iPXE's
// tokenising rules, shellcheck and a real run of the Debian late command against a local HTTP
// server, and subiquity's autoinstall schema (ajv).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import type { PxeIndex } from '../../src/render/delivery/pxe/hosts-json.js';
import { earlyDiskCommand, lateCommand } from '../../src/render/delivery/pxe/preseed.js';
import { renderCloudInit } from '../../src/render/cloud-init/cluster.js';
import { HeldTree, renderPlan } from '../helpers/cluster.js';
import { runKubebake } from '../helpers/cli.js';
import { repoPath, topologyFrom } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, run, tempFiles } from '../helpers/tools.js';

const PROFILE = readFileSync(repoPath('profiles', 'pxe.yaml'), 'utf8');

/** The pxe profile with another OS (Ubuntu 20.04 boots cgroup v1: Kubernetes 1.34 there). */
function variant(os: string, server = 'http://10.30.0.5:8080'): string {
  let text = PROFILE.replace(/^os: .*$/m, `os: ${os}`).replace(/^  server: .*$/m, `  server: ${server}`);
  if (os === 'ubuntu-20.04') text = text.replace(/version: "1\.37\.2"/, 'version: "1.34.2"');
  // Ubuntu's installer takes a kernel name only (topology rule install-disk-link-ubuntu).
  if (os.startsWith('ubuntu')) text = text.replace(/installDisk: \/dev\/disk\/by-id\/\S+ /, 'installDisk: /dev/nvme0n1 ');
  return text;
}

async function renderPxe(text: string): Promise<{ tree: HeldTree; pxe: (path: string) => string; index: PxeIndex }> {
  const plan = await renderPlan(topologyFrom(text));
  const hosts = renderCloudInit(plan);
  const tree = await HeldTree.of(renderDeliveryTree(plan, hosts.seeds, { forms: ['pxe'] }).merge(hosts.tree));
  const pxe = (path: string): string => {
    const f = tree.get(`pxe/${path}`);
    assert.ok(f, `no pxe/${path}`);
    return Buffer.from(f.content).toString('utf8');
  };
  return { tree, pxe, index: JSON.parse(pxe('hosts.json')) as PxeIndex };
}

const OSES = ['ubuntu-20.04', 'ubuntu-22.04', 'ubuntu-24.04', 'ubuntu-26.04', 'debian-12', 'debian-13'] as const;
/**
 * The NoCloud name each OS's cloud-init needs for an HTTP seed, from the versions cited in
 * src/topology/facts/os-facts.ts (20.1, 22.1, 24.1.3, 26.1, 22.4.2, 25.1.4): "nocloud" only from 24.1 on.
 */
const DS_NAME: Record<(typeof OSES)[number], string> = {
  'ubuntu-20.04': 'nocloud-net',
  'ubuntu-22.04': 'nocloud-net',
  'ubuntu-24.04': 'nocloud',
  'ubuntu-26.04': 'nocloud',
  'debian-12': 'nocloud-net',
  'debian-13': 'nocloud',
};

/** Runs cloud-init's own command-line readers (Debian's cloud-init 22.4.2) on a kernel command line. */
function cloudInitReads(cmdline: string): { fill: Record<string, string>; network: unknown } {
  const py = `
import json, sys
from cloudinit.sources.DataSourceNoCloud import load_cmdline_data
from cloudinit.net.cmdline import read_kernel_cmdline_config
fill = {}
load_cmdline_data(fill, sys.argv[1])
print(json.dumps({"fill": fill, "network": read_kernel_cmdline_config(sys.argv[1])}))
`;
  const r = run('/usr/bin/python3', ['-c', py, cmdline]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { fill: Record<string, string>; network: unknown };
}

for (const os of OSES) {
  test(`${os}: the seed kernel arguments name NoCloud as its cloud-init needs, carry the seed URL and the host's own network-config`, async (t) => {
    const { pxe, index } = await renderPxe(variant(os));
    for (const [host, entry] of Object.entries(index.hosts)) {
      assert.equal(entry.seedUrl, `http://10.30.0.5:8080/nocloud/${host}/`);
      const ds = entry.kernelArgs.find((a) => a.startsWith('ds='));
      assert.equal(ds, `ds=${DS_NAME[os]};s=${entry.seedUrl}`);
      for (const a of entry.kernelArgs) assert.doesNotMatch(a, /\s/, `${host}: one word per argument`);
      // Linux on x86 keeps at most COMMAND_LINE_SIZE = 2048 bytes of it (arch/x86/include/asm/setup.h).
      for (const args of [entry.kernelArgs, entry.install.kernelArgs]) assert.ok(`BOOT_IMAGE=/boot/${os}/linux ${args.join(' ')}`.length < 2048, `${host}: command line fits`);
      const ip = entry.kernelArgs.find((a) => a.startsWith('ip='))!;
      // ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>:<dns0>:<dns1>
      const [client, server, gw, mask, name, device, autoconf, dns0, dns1] = ip.slice(3).split(':');
      assert.deepEqual([client, server, gw, mask, name, autoconf, dns0, dns1], [entry.ip, '', '10.30.0.1', '255.255.255.0', host, 'none', '10.30.0.2', '10.30.0.3']);
      // worker2 and lb1 name their NIC; the others are found by MAC through BOOTIF (initramfs-tools).
      if (host === 'worker2' || host === 'lb1') assert.equal(device, 'eno1');
      else {
        assert.equal(device, '');
        assert.ok(entry.kernelArgs.includes(`BOOTIF=01-${entry.mac!.replace(/:/g, '-')}`), `${host}: BOOTIF`);
      }
    }
    const why = missingTools('cloud-init');
    if (why) return t.skip(why);
    for (const [host, entry] of Object.entries(index.hosts)) {
      const read = cloudInitReads(`BOOT_IMAGE=/linux ro ${entry.kernelArgs.join(' ')}`);
      assert.equal(read.fill.seedfrom, entry.seedUrl, host);
      assert.deepEqual(read.network, parse(pxe(`nocloud/${host}/network-config`)), `${host}: network-config= is the host's network-config`);
    }
  });
}

for (const os of OSES) {
  test(`${os}: the cluster README's HTTP-seed hint names NoCloud as the OS's cloud-init needs, and cloud-init reads its seed URL`, async (t) => {
    const plan = await renderPlan(topologyFrom(variant(os)));
    const tree = await HeldTree.of(renderDeliveryTree(plan, renderCloudInit(plan).seeds, { forms: ['tar'] }));
    const readme = Buffer.from(tree.get('README.md')!.content).toString('utf8');
    const hint = /`(ds=[^`]*)` on the\s+kernel command line/.exec(readme)?.[1];
    assert.ok(hint, readme);
    const url = `http://server/${plan.name}/hosts/cp1/`;
    const arg = hint.replace('<host>', 'cp1');
    assert.equal(arg, `ds=${DS_NAME[os]};s=${url}`);
    // Before 24.3 an HTTP seed's network-config is not fetched: the hint says how the address gets there
    // (Ubuntu 26.04 ships 26.1, Debian 13 25.1.4).
    assert.equal(/fetches no\s+network-config from an HTTP seed/.test(readme), !['ubuntu-26.04', 'debian-13'].includes(os), os);
    const why = missingTools('cloud-init');
    if (why) return t.skip(why);
    // Debian's cloud-init 22.4.2 reads the argument as 20.1 and 22.1 do (load_cmdline_data): the
    // seed URL, and network mode only under "nocloud-net", which these releases need for http://.
    const read = cloudInitReads(`BOOT_IMAGE=/linux ro ${arg}`);
    assert.equal(read.fill.seedfrom, url);
    if (DS_NAME[os] === 'nocloud-net') assert.equal(read.fill.dsmode, 'net', `${os}: an http:// seed in network mode`);
  });
}

test('cloud-init 22.4.2 (Debian 12) takes an HTTP seed in network mode only under the name nocloud-net: why the name is chosen per OS', (t) => {
  const why = missingTools('cloud-init');
  if (why) return t.skip(why);
  assert.equal(cloudInitReads('ro ds=nocloud-net;s=http://10.30.0.5:8080/nocloud/cp1/').fill.dsmode, 'net');
  assert.equal(cloudInitReads('ro ds=nocloud;s=http://10.30.0.5:8080/nocloud/cp1/').fill.dsmode, 'local');
});

test('nocloud/<host>/ holds the same bytes as hosts/<host>/ (user-data 0600), and an empty vendor-data so NoCloud-net does not retry a 404', async (t) => {
  const { tree, pxe, index } = await renderPxe(PROFILE);
  for (const host of Object.keys(index.hosts)) {
    for (const f of ['user-data', 'meta-data', 'network-config']) {
      assert.deepEqual(tree.get(`pxe/nocloud/${host}/${f}`)!.content, tree.get(`hosts/${host}/${f}`)!.content, `${host}/${f}`);
    }
    assert.equal(tree.get(`pxe/nocloud/${host}/user-data`)!.mode, 0o600);
    assert.equal(tree.get(`pxe/nocloud/${host}/vendor-data`)!.mode, 0o644);
  }
  const vendor = pxe('nocloud/cp1/vendor-data');
  assert.ok(vendor.startsWith('#cloud-config\n'));
  assert.deepEqual(parse(vendor), {}, 'nothing in it: every host\'s user-data is complete');
  const why = missingTools('cloud-init');
  if (why) return t.skip(why);
  const { dir, cleanup } = tempFiles({ 'vendor-data': vendor });
  try {
    const r = run('cloud-init', ['schema', '--config-file', join(dir, 'vendor-data')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  } finally {
    cleanup();
  }
});

test('hosts.json: every MAC maps to its host, every file of the tree belongs to one host or is shared', async () => {
  const { tree, index } = await renderPxe(PROFILE);
  assert.equal(index.server, 'http://10.30.0.5:8080');
  assert.deepEqual(index.macs, {
    '0c:c4:7a:30:00:11': 'cp1',
    '0c:c4:7a:30:00:12': 'cp2',
    '0c:c4:7a:30:00:13': 'cp3',
    '0c:c4:7a:30:00:21': 'worker1',
    '0c:c4:7a:30:00:22': 'worker2',
  });
  assert.equal(index.hosts.lb1!.mac, undefined, 'lb1 is named by interface only');
  const listed = [...index.shared, ...Object.values(index.hosts).flatMap((h) => h.files)];
  assert.equal(new Set(listed).size, listed.length, 'no file listed twice');
  const inTree = tree.files().map((f) => f.path).filter((p) => p.startsWith('pxe/')).map((p) => p.slice(4));
  assert.deepEqual([...listed].sort(), inTree.sort());
  assert.deepEqual(index.supplied, ['boot/debian-12/linux', 'boot/debian-12/initrd']);
  for (const h of Object.values(index.hosts)) assert.deepEqual([h.install.kernel, h.install.initrd], index.supplied.map((p) => `${index.server}/${p}`));
  assert.ok(index.hosts.cp1!.files.includes('ipxe/0c-c4-7a-30-00-11.ipxe'));
  assert.ok(index.hosts.cp1!.files.includes('grub/grub.cfg-0c-c4-7a-30-00-11'));
});

/** iPXE: whitespace-separated tokens; ";", "||", "&&" alone end a command; "#" at a token's start comments (src/core/exec.c). */
const ipxeTokens = (line: string): string[] => line.trim().split(/\s+/).filter(Boolean);

test('iPXE: boot.ipxe chains ipxe/${mac:hexhyp}.ipxe, and each host script exists under that name and boots its kernel with its arguments as single tokens', async () => {
  const { pxe, index } = await renderPxe(variant('ubuntu-22.04'));
  const dispatcher = pxe('boot.ipxe');
  assert.ok(dispatcher.startsWith('#!ipxe\n'));
  assert.match(dispatcher, /^chain --autofree http:\/\/10\.30\.0\.5:8080\/ipxe\/\$\{mac:hexhyp\}\.ipxe \|\| goto unknown$/m);
  assert.match(dispatcher, /^:unknown$/m);
  for (const [host, entry] of Object.entries(index.hosts)) {
    if (!entry.mac) continue;
    // hexhyp: the MAC's bytes in hex joined by hyphens (ipxe.org/cfg/mac: 52-54-00-12-34-56).
    const script = pxe(`ipxe/${entry.mac.split(':').join('-')}.ipxe`);
    assert.ok(script.startsWith('#!ipxe\n'), host);
    const lines = script.split('\n');
    const labels = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1)));
    const items = lines.filter((l) => l.startsWith('item ')).map((l) => ipxeTokens(l)[1]!);
    for (const item of items) assert.ok(labels.has(item), `${host}: menu item ${item} has a label`);
    for (const l of lines.filter((l) => /^goto \w/.test(l) || /\|\| goto \w/.test(l))) assert.ok(labels.has(l.split('goto ')[1]!.trim()), `${host}: ${l}`);
    const kernel = lines.find((l) => l.startsWith('kernel '))!;
    const tokens = ipxeTokens(kernel);
    assert.ok(!tokens.some((tk) => [';', '||', '&&'].includes(tk) || tk.startsWith('#') || tk.includes('${')), `${host}: every argument is literal`);
    assert.deepEqual(tokens.slice(1), [entry.install.kernel, 'initrd=initrd', ...entry.install.kernelArgs]);
    assert.ok(lines.includes(`initrd --name initrd ${entry.install.initrd}`));
    // The Ubuntu installer's seed: iPXE hands "ds=…;s=…" over whole, and cloud-init reads it.
    const ds = tokens.find((tk) => tk.startsWith('ds='))!;
    assert.equal(ds, `ds=nocloud-net;s=http://10.30.0.5:8080/autoinstall/${host}/`);
    if (!missingTools('cloud-init')) assert.equal(cloudInitReads(tokens.slice(1).join(' ')).fill.seedfrom, entry.install.url);
  }
});

/** The words of a GRUB command line: GRUB's quoting is POSIX sh's for single quotes (manual, "Quoting"). */
function shWords(line: string): string[] {
  const r = run('sh', ['-c', `for w in ${line}; do printf '%s\\n' "$w"; done`]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

for (const os of ['ubuntu-24.04', 'debian-12'] as const) {
  test(`GRUB (${os}): grub.cfg and each grub.cfg-<MAC> pass grub-script-check; the linux line's words are the host's arguments, ";" kept`, async (t) => {
    const { tree, pxe, index } = await renderPxe(variant(os));
    const configs = tree.files().map((f) => f.path).filter((p) => p.startsWith('pxe/grub/')).map((p) => p.slice(4));
    // GRUB's lookup name: grub.cfg-<MAC, lower-case, hyphens> (manual: grub.cfg-52-54-00-ec-33-81).
    assert.deepEqual(configs.filter((c) => c !== 'grub/grub.cfg').sort(), Object.values(index.hosts).filter((h) => h.mac).map((h) => `grub/grub.cfg-${h.mac!.replace(/:/g, '-')}`).sort());
    const menu = pxe('grub/grub.cfg');
    for (const host of Object.keys(index.hosts)) assert.match(menu, new RegExp(`^menuentry '${host} \\(`, 'm'));
    const hosts = Object.entries(index.hosts);
    for (const cfg of configs) {
      const lines = pxe(cfg).split('\n').filter((l) => l.trim().startsWith('linux ')).map((l) => shWords(l.trim()));
      // The menu boots every host; a host's own file boots that host (named by the MAC in its file name).
      const expected = cfg === 'grub/grub.cfg' ? hosts : hosts.filter(([, h]) => h.mac && cfg.endsWith(h.mac.replace(/:/g, '-')));
      assert.equal(lines.length, expected.length, cfg);
      lines.forEach((words, i) => {
        const [host, h] = expected[i]!;
        assert.equal(words[0], 'linux');
        assert.equal(words[1], `(http,10.30.0.5:8080)${new URL(h.install.kernel).pathname}`, `${cfg} ${host}`);
        assert.deepEqual(words.slice(2), h.install.kernelArgs, `${cfg} ${host}: arguments survive GRUB's quoting`);
      });
    }
    if (os === 'ubuntu-24.04') assert.ok(index.hosts.cp1!.install.kernelArgs.some((a) => a.includes(';')), 'the case that needs quoting is there');
    const why = missingTools('grub-script-check');
    if (why) return t.skip(why);
    const files = Object.fromEntries(configs.map((c) => [c.replace('/', '_'), pxe(c)]));
    const { dir, cleanup } = tempFiles(files);
    try {
      for (const name of Object.keys(files)) {
        const r = run('grub-script-check', [join(dir, name)]);
        assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
      }
      // The checker bites: an unclosed quote is a syntax error.
      const bad = tempFiles({ bad: "menuentry 'x' {\n  linux '/linux ds=nocloud;s=http://x/\n}\n" });
      try {
        assert.notEqual(run('grub-script-check', [join(bad.dir, 'bad')]).status, 0);
      } finally {
        bad.cleanup();
      }
    } finally {
      cleanup();
    }
  });
}

test('Ubuntu autoinstall: valid against subiquity\'s schema; user-data is the host\'s cloud-config, network its network-config; the installer seed has the same document', async () => {
  const schema = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'autoinstall-schema', 'autoinstall-schema.json'), 'utf8')) as object;
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  const validate = ajv.compile(schema);
  for (const os of ['ubuntu-20.04', 'ubuntu-24.04'] as const) {
    const { pxe, index } = await renderPxe(variant(os));
    for (const host of Object.keys(index.hosts)) {
      const text = pxe(`autoinstall/${host}.yaml`);
      assert.ok(text.startsWith('#cloud-config\n'), 'the installer reads it as NoCloud user-data');
      const doc = parse(text, { version: '1.1' }) as { autoinstall: Record<string, unknown> };
      assert.deepEqual(Object.keys(doc), ['autoinstall']);
      assert.ok(validate(doc.autoinstall), `${os} ${host}: ${JSON.stringify(validate.errors, null, 1)}`);
      assert.deepEqual(doc.autoinstall['user-data'], parse(pxe(`nocloud/${host}/user-data`), { version: '1.1' }));
      assert.deepEqual(doc.autoinstall.network, parse(pxe(`nocloud/${host}/network-config`), { version: '1.1' }));
      assert.equal(pxe(`autoinstall/${host}/user-data`), text);
      assert.deepEqual(parse(pxe(`autoinstall/${host}/meta-data`)), { 'instance-id': `${host}-autoinstall`, 'local-hostname': host });
      assert.equal(index.hosts[host]!.install.url, `http://10.30.0.5:8080/autoinstall/${host}/`);
    }
    // The installer downloads the ISO the operator supplies (casper url=).
    assert.deepEqual(index.supplied, [`boot/${os}/linux`, `boot/${os}/initrd`, `boot/${os}/live-server.iso`]);
    assert.ok(index.hosts.cp1!.install.kernelArgs.includes(`url=${index.server}/boot/${os}/live-server.iso`));
    assert.ok(index.hosts.cp1!.install.kernelArgs.includes('autoinstall'));
    // The schema bites: a wrong type is refused.
    const broken = parse(pxe('autoinstall/cp1.yaml')) as { autoinstall: Record<string, unknown> };
    broken.autoinstall.shutdown = 3;
    assert.equal(validate(broken.autoinstall), false);
  }
});

test('Debian preseed: every line is "owner question type value"; the late command passes shellcheck (sh) and, run for real, installs the seed from the server', async (t) => {
  // A local server stands in for `kubebake serve`: the preseed's URLs point at it.
  const files = new Map<string, Buffer>();
  const server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    res.writeHead(body ? 200 : 404).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const { tree, pxe } = await renderPxe(variant('debian-12', `http://127.0.0.1:${port}`));
    for (const f of tree.files()) if (f.path.startsWith('pxe/')) files.set(f.path.slice(3), Buffer.from(f.content));
    const preseed = pxe('preseed/cp1.cfg');
    for (const line of preseed.split('\n').filter((l) => l && !l.startsWith('#'))) {
      assert.match(line, /^(d-i|tasksel|popularity-contest) [a-z0-9-]+\/[a-z0-9_/-]+ (string|boolean|select|multiselect|password|note)( .*)?$/, line);
    }
    const late = preseed.split('\n').find((l) => l.startsWith('d-i preseed/late_command string '))!.slice('d-i preseed/late_command string '.length);
    assert.equal(late, lateCommand(`http://127.0.0.1:${port}/nocloud/cp1/`));
    const why = missingTools('shellcheck', 'wget');
    if (why) return t.skip(why);
    const sc = tempFiles({ 'late.sh': `#!/bin/sh\n${late}\n` });
    try {
      const r = run('shellcheck', ['-s', 'sh', '-S', 'warning', join(sc.dir, 'late.sh')]);
      assert.equal(r.status, 0, r.stdout);
    } finally {
      sc.cleanup();
    }
    // The installer mounts the new system at /target; here a temp folder stands in for it.
    const target = mkdtempSync(join(tmpdir(), 'kubebake-target-'));
    try {
      mkdirSync(join(target, 'etc/network'), { recursive: true });
      await promisify(execFile)('sh', ['-c', late.replaceAll('/target/', `${target}/`)]);
      const seed = join(target, 'var/lib/cloud/seed/nocloud');
      assert.deepEqual(readdirSync(seed).sort(), ['meta-data', 'network-config', 'user-data']);
      for (const f of ['user-data', 'meta-data', 'network-config']) assert.equal(readFileSync(join(seed, f), 'utf8'), pxe(`nocloud/cp1/${f}`), f);
      assert.equal(statSync(join(seed, 'user-data')).mode & 0o777, 0o600);
      assert.equal(statSync(seed).mode & 0o777, 0o700);
      assert.equal(readFileSync(join(target, 'etc/network/interfaces'), 'utf8'), 'auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\n');
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  } finally {
    server.close();
  }
});

test('the Debian installer is told the host\'s static network on its command line (the preseed file comes over that network)', async () => {
  const { index } = await renderPxe(PROFILE);
  const args = index.hosts.worker2!.install.kernelArgs;
  for (const a of ['auto=true', 'priority=critical', 'url=http://10.30.0.5:8080/preseed/worker2.cfg', 'interface=eno1', 'netcfg/disable_autoconfig=true',
    'netcfg/get_ipaddress=10.30.0.22', 'netcfg/get_netmask=255.255.255.0', 'netcfg/get_gateway=10.30.0.1', 'netcfg/get_nameservers=10.30.0.2', 'hostname=worker2', 'domain=metal.example.org']) {
    assert.ok(args.includes(a), a);
  }
  assert.ok(index.hosts.cp1!.install.kernelArgs.includes('interface=auto'), 'no interface name: the installer picks the NIC with a link');
});

test('the same topology and secrets give byte-identical PXE trees', async () => {
  const a = (await renderPxe(PROFILE)).tree.files();
  const b = (await renderPxe(PROFILE)).tree.files();
  assert.deepEqual(a.map((f) => [f.path, f.mode, Buffer.from(f.content).toString('base64')]), b.map((f) => [f.path, f.mode, Buffer.from(f.content).toString('base64')]));
});

test('CLI: --delivery pxe without delivery.server is an input error naming the field (exit 1, nothing written); "all" skips pxe/ with a one-line note', () =>
  withTempDir((out) => {
    const text = PROFILE.replace(/^delivery:\n  server: .*\n/m, '');
    assert.ok(!/^\s*server:/m.test(text));
    const w = tempFiles({ 't.yaml': text });
    try {
      const r = runKubebake(['render', 'cloud-init', '-f', join(w.dir, 't.yaml'), '-o', out, '--delivery', 'iso,pxe']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /error\[delivery\.server\]: --delivery pxe: the PXE tree needs delivery\.server/);
      assert.match(r.stderr, /--> .*t\.yaml:\d+:\d+/);
      assert.match(r.stderr, /hint: add "delivery: \{ server: http:\/\//);
      assert.deepEqual(readdirSync(out), [], 'not even secrets');
      const all = runKubebake(['render', 'cloud-init', '-f', join(w.dir, 't.yaml'), '-o', out]);
      assert.equal(all.status, 0, all.stderr);
      assert.equal(all.stderr.split('\n').filter((l) => l.startsWith('note: no PXE tree')).length, 1);
      assert.ok(!existsSync(join(out, 'metal', 'pxe')));
      assert.ok(existsSync(join(out, 'metal', 'hosts', 'cp1', 'seed.iso')), 'the other forms are written');
    } finally {
      w.cleanup();
    }
    const ok = runKubebake(['render', 'cloud-init', '-f', repoPath('profiles', 'pxe.yaml'), '-o', out, '--delivery', 'pxe']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(existsSync(join(out, 'metal', 'pxe', 'hosts.json')));
    assert.equal(statSync(join(out, 'metal', 'pxe', 'nocloud', 'cp1', 'user-data')).mode & 0o777, 0o600);
  }));

test('restricted network: the installers take the site\'s OS mirror and proxy (autoinstall apt and proxy, preseed mirror), never an upstream archive', async () => {
  const schema = JSON.parse(readFileSync(repoPath('test', 'fixtures', 'autoinstall-schema', 'autoinstall-schema.json'), 'utf8')) as object;
  const validate = new Ajv.default({ strict: false, allErrors: true }).compile(schema);
  const airgap = readFileSync(repoPath('profiles', 'airgap.yaml'), 'utf8').replace(/^delivery:.*$/m, '') + '\ndelivery: { server: http://10.20.0.5:8080 }\n';
  // profiles/airgap.yaml: mirrors.os https://mirror.lab.example/ubuntu/, proxy http://proxy.lab.example:3128.
  const ubuntu = await renderPxe(airgap);
  const doc = parse(ubuntu.pxe('autoinstall/cp1.yaml'), { version: '1.1' }) as { autoinstall: Record<string, unknown> };
  assert.ok(validate(doc.autoinstall), JSON.stringify(validate.errors));
  assert.equal(doc.autoinstall.proxy, 'http://proxy.lab.example:3128');
  assert.deepEqual(doc.autoinstall.apt, { geoip: false, primary: [{ arches: ['default'], uri: 'https://mirror.lab.example/ubuntu/' }] });

  const debian = await renderPxe(airgap.replace(/^os: .*$/m, 'os: debian-12').replace('https://mirror.lab.example/ubuntu/', 'http://mirror.lab.example:8081/debian/'));
  const preseed = debian.pxe('preseed/cp1.cfg');
  for (const line of [
    'd-i mirror/protocol string http',
    'd-i mirror/http/hostname string mirror.lab.example:8081',
    'd-i mirror/http/directory string /debian',
    'd-i mirror/http/proxy string http://proxy.lab.example:3128',
    'd-i apt-setup/services-select multiselect',
  ])
    assert.ok(preseed.split('\n').includes(line), `${line}\n${preseed}`);
  assert.doesNotMatch(preseed, /debian\.org/);

  // Without mirrors and proxy: Debian's own archive, no proxy, the default services.
  const plain = (await renderPxe(variant('debian-12'))).pxe('preseed/cp1.cfg');
  assert.ok(plain.includes('d-i mirror/http/hostname string deb.debian.org\nd-i mirror/http/directory string /debian\nd-i mirror/http/proxy string\n'), plain);
  assert.doesNotMatch(plain, /services-select/);
  const plainUbuntu = parse((await renderPxe(variant('ubuntu-24.04'))).pxe('autoinstall/cp1.yaml'), { version: '1.1' }) as { autoinstall: Record<string, unknown> };
  assert.equal(plainUbuntu.autoinstall.apt, undefined);
  assert.equal(plainUbuntu.autoinstall.proxy, undefined);
});

test('offline tree: every per-MAC iPXE script and grub.cfg-<MAC> boots the local disk when nobody chooses; installing is a menu entry; grub.cfg selects local', async () => {
  for (const os of ['debian-12', 'ubuntu-24.04'] as const) {
    const { pxe, index } = await renderPxe(variant(os));
    for (const [host, entry] of Object.entries(index.hosts)) {
      if (!entry.mac) continue;
      const ipxe = pxe(`ipxe/${entry.mac.replace(/:/g, '-')}.ipxe`).split('\n');
      const choose = ipxe.filter((l) => l.startsWith('choose '));
      assert.deepEqual(choose, ['choose --default local --timeout 10000 target || goto local'], `${os} ${host}`);
      // "local" ends the script (iPXE's exit: the firmware tries its next boot device); "install" is still there.
      assert.equal(ipxe[ipxe.indexOf(':local') + 1], 'exit');
      assert.ok(ipxe.some((l) => l.startsWith('item install ')) && ipxe.includes(':install'));
      const grub = pxe(`grub/grub.cfg-${entry.mac.replace(/:/g, '-')}`).split('\n');
      assert.deepEqual(grub.filter((l) => l.startsWith('set default=')), ["set default='local'"], `${os} ${host}`);
      assert.ok(grub.includes("menuentry 'Boot from the next device (local disk)' --id local {"));
      assert.ok(grub.some((l) => l.startsWith('menuentry ') && l.includes(`--id '${host}'`)), 'the install entry is in the menu');
    }
    const menu = pxe('grub/grub.cfg').split('\n');
    assert.deepEqual(menu.filter((l) => l.startsWith('set ')), ['set default=local', 'set timeout=-1'], 'an unknown machine waits, with local selected');
    // The README says so.
    assert.match(pxe('README.md'), /these files, served as they are by any web server: \*\*local\*\*/);
  }
});

test('Debian preseed: old LVM and RAID are removed with their confirmations; the install disk is the topology\'s (a kernel name as is, a link resolved) or the first listed; debconf-set-selections -c accepts every file', async (t) => {
  const text = PROFILE.replace('{ name: worker1, role: worker, ip: 10.30.0.21, mac: "0c:c4:7a:30:00:21" }', '{ name: worker1, role: worker, ip: 10.30.0.21, mac: "0c:c4:7a:30:00:21", installDisk: /dev/sdb }');
  assert.notEqual(text, PROFILE);
  const { pxe, index } = await renderPxe(text);
  const lines = (host: string): string[] => pxe(`preseed/${host}.cfg`).split('\n');
  for (const host of Object.keys(index.hosts)) {
    for (const line of [
      'd-i partman-lvm/device_remove_lvm boolean true',
      'd-i partman-md/device_remove_md boolean true',
      'd-i partman-lvm/confirm boolean true',
      'd-i partman-lvm/confirm_nooverwrite boolean true',
      'd-i partman-md/confirm boolean true',
      'd-i partman-partitioning/confirm_write_new_label boolean true',
      'd-i partman/confirm boolean true',
      'd-i partman/confirm_nooverwrite boolean true',
    ])
      assert.ok(lines(host).includes(line), `${host}: ${line}`);
  }
  // worker1: a kernel name, as is, for the partitioner and the boot loader; nothing computed at install time.
  assert.ok(lines('worker1').includes('d-i partman-auto/disk string /dev/sdb'));
  assert.ok(lines('worker1').includes('d-i grub-installer/bootdev string /dev/sdb'));
  assert.ok(!lines('worker1').some((l) => l.startsWith('d-i partman/early_command')));
  // cp1 (profiles/pxe.yaml): a by-id link, resolved before the partitioner starts; cp2: the first disk listed.
  const early = (host: string): string => lines(host).find((l) => l.startsWith('d-i partman/early_command string '))!.slice('d-i partman/early_command string '.length);
  assert.equal(early('cp1'), earlyDiskCommand('/dev/disk/by-id/wwn-0x5000c500a1b2c3d4'));
  assert.match(early('cp1'), /\$\(readlink -f \/dev\/disk\/by-id\/wwn-0x5000c500a1b2c3d4\)/);
  assert.match(early('cp2'), /list-devices disk \| head -n1/);
  for (const host of ['cp1', 'cp2']) assert.ok(!lines(host).some((l) => l.startsWith('d-i partman-auto/disk ')), `${host}: set by the early command only`);

  const why = missingTools('debconf-set-selections', 'shellcheck');
  if (why) return t.skip(why);
  const files = Object.fromEntries(Object.keys(index.hosts).map((h) => [`${h}.cfg`, pxe(`preseed/${h}.cfg`)]));
  const { dir, cleanup } = tempFiles({ ...files, 'early.sh': `#!/bin/sh\n${early('cp1')}\n${early('cp2')}\n`, 'broken.cfg': 'd-i partman-auto/disk\n' });
  try {
    for (const f of Object.keys(files)) {
      const r = run('debconf-set-selections', ['-c', join(dir, f)]);
      assert.equal(r.status, 0, `${f}: ${r.stdout}${r.stderr}`);
    }
    assert.notEqual(run('debconf-set-selections', ['-c', join(dir, 'broken.cfg')]).status, 0, 'the checker bites: a line without type and value');
    const sc = run('shellcheck', ['-s', 'sh', '-S', 'warning', join(dir, 'early.sh')]);
    assert.equal(sc.status, 0, sc.stdout);
    // Run for real with the installer's commands standing in: list-devices prints disks, debconf-set records.
    mkdirSync(join(dir, 'bin'));
    const stub = (name: string, body: string): void => writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    stub('list-devices', '[ "$1" = disk ] && printf "/dev/sda\\n/dev/sdb\\n"');
    stub('debconf-set', `echo "$1=$2" >> ${join(dir, 'set')}`);
    const env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
    assert.equal(run('sh', ['-c', early('cp2')], { env }).status, 0);
    // A by-id link standing in at a temporary path, pointing at a disk node.
    writeFileSync(join(dir, 'nvme0n1'), '');
    symlinkSync(join(dir, 'nvme0n1'), join(dir, 'wwn-link'));
    assert.equal(run('sh', ['-c', early('cp1').replace('/dev/disk/by-id/wwn-0x5000c500a1b2c3d4', join(dir, 'wwn-link'))], { env }).status, 0);
    assert.deepEqual(readFileSync(join(dir, 'set'), 'utf8').trim().split('\n'), [
      'partman-auto/disk=/dev/sda',
      'grub-installer/bootdev=/dev/sda',
      `partman-auto/disk=${join(dir, 'nvme0n1')}`,
      `grub-installer/bootdev=${join(dir, 'nvme0n1')}`,
    ]);
  } finally {
    cleanup();
  }
});

test('Ubuntu autoinstall: the direct layout on the host\'s installDisk (match path), else explicitly the largest disk', async () => {
  const { pxe, index } = await renderPxe(variant('ubuntu-24.04'));
  const storage = (host: string): unknown => (parse(pxe(`autoinstall/${host}.yaml`), { version: '1.1' }) as { autoinstall: { storage: unknown } }).autoinstall.storage;
  assert.deepEqual(storage('cp1'), { layout: { name: 'direct', match: { path: '/dev/nvme0n1' } }, swap: { size: 0 } });
  for (const host of Object.keys(index.hosts).filter((h) => h !== 'cp1')) assert.deepEqual(storage(host), { layout: { name: 'direct', match: { size: 'largest' } }, swap: { size: 0 } }, host);
});

test("Debian 13: the PXE README names trixie's netboot installer, and the hosts install with it", async () => {
  const { pxe, index } = await renderPxe(variant('debian-13'));
  // The netboot tree's layout for trixie: osinfo-db data/os/debian.org/debian-13.xml.in
  // (installer-amd64/current/images/netboot/debian-installer/amd64/linux, …/initrd.gz), as
  // Debian's debian-installer-13-netboot-amd64 package (20250803+deb13u8) lays it out too.
  const readme = pxe('README.md');
  assert.ok(readme.includes('https://deb.debian.org/debian/dists/trixie/main/installer-amd64/current/images/netboot/debian-installer/amd64/linux'), readme);
  assert.ok(readme.includes('`…/initrd.gz`'), readme);
  for (const [host, entry] of Object.entries(index.hosts)) {
    assert.equal(entry.install.kind, 'preseed', host);
    assert.ok(entry.install.kernelArgs.includes(`url=http://10.30.0.5:8080/preseed/${host}.cfg`), host);
  }
});
