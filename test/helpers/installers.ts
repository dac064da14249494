// What an operating system's installer leaves on the installed system for its first boot, built
// from kubebake's rendered installer files the way the installer builds it: the PXE tree of an OS
// variant of profiles/pxe.yaml, and the cloud-init files Ubuntu's installer (subiquity) writes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { renderCloudInit } from '../../src/render/cloud-init/cluster.js';
import type { RenderPlan } from '../../src/plan/plan.js';
import { HeldTree, renderPlan } from './cluster.js';
import { repoPath, topologyFrom } from './repo.js';
import { run } from './tools.js';

/** profiles/pxe.yaml with another OS and server (as test/delivery/pxe.test.ts does): Ubuntu's installer takes a kernel disk name. */
export function pxeVariant(os: string, server: string): string {
  let text = readFileSync(repoPath('profiles', 'pxe.yaml'), 'utf8').replace(/^os: .*$/m, `os: ${os}`).replace(/^ {2}server: .*$/m, `  server: ${server}`);
  if (os.startsWith('ubuntu')) text = text.replace(/installDisk: \/dev\/disk\/by-id\/\S+ /, 'installDisk: /dev/nvme0n1 ');
  return text;
}

export async function renderPxeTree(text: string): Promise<{ plan: RenderPlan; pxe: (path: string) => Buffer }> {
  const p = await renderPlan(topologyFrom(text));
  const held = await HeldTree.of(renderDeliveryTree(p, renderCloudInit(p).seeds, { forms: ['pxe'] }));
  return {
    plan: p,
    pxe: (path) => {
      const f = held.get(`pxe/${path}`);
      assert.ok(f, `no pxe/${path}`);
      return Buffer.from(f.content);
    },
  };
}

/**
 * Ubuntu's installer (canonical/subiquity @ 44e42fc69cfa65a23262c410d960b3842af78e80) configures
 * the installed system's cloud-init, reproduced here from the autoinstall document:
 * - subiquity/models/subiquity.py _cloud_init_config: {growpart: {mode: off}, resize_rootfs: false},
 *   no users or preserve_hostname without an identity section, ssh_pwauth from ssh.allow-pw when
 *   ssh.install-server (server/controllers/ssh.py), the postinstall models' cloud-config (locale:
 *   the live session's LANG or en_US.UTF-8, controllers/locale.py; no timezone, snaps or Pro token
 *   here), the autoinstall's user-data merged in (merge_cloud_init_config: dicts merged, lists
 *   appended, the rest replaced), then, except on 20.04 and 22.04, a deferred write_files entry
 *   that writes /etc/cloud/cloud-init.disabled (CLOUDINIT_DISABLE_AFTER_INSTALL);
 * - _cloud_init_files: etc/cloud/cloud.cfg.d/99-installer.cfg (0600) = yaml.dump({datasource_list:
 *   [None], datasource: {None: {userdata_raw: "#cloud-config\n" + yaml.dump(config), metadata:
 *   {instance-id: <uuid4>}}}}, default_flow_style=None), 20-disable-cc-dpkg-grub.cfg (0644) and
 *   etc/cloud/ds-identify.cfg "policy: enabled" (0644); (its clean.d hook only matters to
 *   `cloud-init clean`);
 * - subiquity/models/network.py render: the autoinstall's `network:` as
 *   etc/netplan/00-installer-config.yaml (0600, "# This is the network config written by
 *   'subiquity'" + yaml.dump({network: …}, default_flow_style=False); controllers/network.py takes a
 *   nested network: network: too) and cloud.cfg.d/00-subiquity-disable-cloudinit-networking.cfg
 *   "network: {config: disabled}" (0600).
 * Prints {path: [mode, content]} as JSON.
 */
const SUBIQUITY = `import json, sys, uuid, yaml
doc = yaml.safe_load(open(sys.argv[1]))
ai = doc["autoinstall"]
version = sys.argv[2]
config = {"growpart": {"mode": "off"}, "resize_rootfs": False}
ssh = ai.get("ssh") or {}
if ssh.get("install-server", False):
    config["ssh_pwauth"] = ssh.get("allow-pw", not ssh.get("authorized-keys", []))
config["locale"] = "en_US.UTF-8"
def merge(target, source):
    for k, v in source.items():
        if isinstance(v, dict) and isinstance(target.get(k, None), dict):
            merge(target[k], v)
        elif isinstance(v, list) and isinstance(target.get(k, None), list):
            target[k].extend(v)
        else:
            target[k] = v
if ai.get("user-data") is not None:
    merge(config, ai["user-data"])
if version not in ("20.04", "22.04"):
    config.setdefault("write_files", []).append({"path": "/etc/cloud/cloud-init.disabled", "defer": True, "content": "Disabled by Ubuntu live installer after first boot.\\nTo re-enable cloud-init on this image run:\\n  sudo cloud-init clean --machine-id\\n"})
userdata = "#cloud-config\\n" + yaml.dump(config)
installer = yaml.dump({"datasource_list": ["None"], "datasource": {"None": {"userdata_raw": userdata, "metadata": {"instance-id": str(uuid.uuid4())}}}}, default_flow_style=None)
network = ai.get("network")
if network is not None and "network" in network:
    network = network["network"]
files = {
    "/etc/cloud/cloud.cfg.d/20-disable-cc-dpkg-grub.cfg": [0o644, yaml.dump({"grub_dpkg": {"enabled": False}})],
    "/etc/cloud/cloud.cfg.d/99-installer.cfg": [0o600, installer],
    "/etc/cloud/ds-identify.cfg": [0o644, "policy: enabled\\n"],
    "/etc/cloud/cloud.cfg.d/00-subiquity-disable-cloudinit-networking.cfg": [0o600, "network: {config: disabled}\\n"],
    "/etc/netplan/00-installer-config.yaml": [0o600, "\\n".join(["# This is the network config written by 'subiquity'", yaml.dump({"network": network}, default_flow_style=False)])],
}
print(json.dumps(files))
`;

/** The files subiquity writes into the installed system for the autoinstall document `autoinstall` (Ubuntu `version`, e.g. "24.04"): path → content and mode. */
export function subiquityInstalledFiles(autoinstall: string, version: string): Record<string, { content: string; mode: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-subiquity-'));
  try {
    writeFileSync(join(dir, 'autoinstall.yaml'), autoinstall);
    writeFileSync(join(dir, 'subiquity.py'), SUBIQUITY);
    const r = run('python3', [join(dir, 'subiquity.py'), join(dir, 'autoinstall.yaml'), version]);
    assert.equal(r.status, 0, r.stderr);
    const written = JSON.parse(r.stdout) as Record<string, [number, string]>;
    return Object.fromEntries(Object.entries(written).map(([path, [mode, content]]) => [path, { content, mode }]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
