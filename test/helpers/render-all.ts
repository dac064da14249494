// Everything kubebake writes for a topology, as the commands write it (render cloud-init with
// every delivery form, the PXE boot scripts `kubebake serve` answers with, the Packer tree,
// the bundle's fill script), sorted by the language each file is in, for the checkers.
import { parse } from 'yaml';
import { buildArtifactInventory } from '../../src/manifest/inventory.js';
import { imageRuntime } from '../../src/manifest/runtime.js';
import { contentOf } from '../../src/output/tree.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import type { RenderPlan } from '../../src/plan/plan.js';
import { renderFillScript } from '../../src/render/bundle/fill-script.js';
import { renderCloudInit } from '../../src/render/cloud-init/cluster.js';
import { renderDeliveryTree } from '../../src/render/delivery/delivery.js';
import { DELIVERY_FORMS, formsFor } from '../../src/render/delivery/forms.js';
import { hostBootScripts } from '../../src/render/delivery/pxe/tree.js';
import { renderPackerTree } from '../../src/render/packer/tree.js';
import type { Topology } from '../../src/topology/types.js';
import { verifyRender } from '../../src/verify/verify.js';
import { renderPlan } from './cluster.js';

/** A script and the shell that runs it (`sh`: dash here, busybox sh in the Debian installer). */
export interface Script { name: string; text: string; shell: 'bash' | 'sh' }

export interface Emitted {
  /** Every text file by path (cloud-init/…, delivery/…, packer/…, serve/…); built binaries (ISOs, tars, gzip) are built and left out. */
  files: Map<string, string>;
  scripts: Script[];
  haproxy: string[];
  nft: string[];
  grub: string[];
  hcl: { name: string; text: string }[];
  /** YAML that cloud-init or subiquity reads with PyYAML. */
  yaml: { name: string; text: string }[];
  /** Debian installer preseed files (debconf: one `owner question type value` per line). */
  preseed: { name: string; text: string }[];
  keepalived: { conf: string; check: string }[];
  /** Kernel command lines, one argument per item: hosts.json's, and the iPXE `kernel` lines' words after the URL. */
  kernelArgs: { name: string; args: string[] }[];
  /** What verifyRender says (the CLI stops with exit 1 on any). */
  verify: string[];
}

interface WriteFile { path: string; content: string }

const utf8 = (b: Uint8Array | string): string => (typeof b === 'string' ? b : Buffer.from(b).toString('utf8'));
const isText = (path: string): boolean => !/\.(iso|tar|gz)$/.test(path);

/** Renders everything (throws what a command would turn into exit 70). */
export async function renderAll(t: Topology): Promise<Emitted> {
  const plan: RenderPlan = await renderPlan(t);
  const rendered = renderCloudInit(plan);
  const verify = verifyRender(rendered).map((d) => `${d.path.join('.')}: ${d.message}`);
  const { tree: cloud, seeds } = rendered;
  const delivery = renderDeliveryTree(plan, seeds, { forms: formsFor(DELIVERY_FORMS, plan.delivery.server) });
  const packer = renderPackerTree(plan);
  const files = new Map<string, string>();
  for (const [prefix, tree] of [['cloud-init/', cloud], ['delivery/', delivery], ['packer/', packer]] as const) {
    for (const f of tree.files()) {
      const content = await contentOf(f); // builds ISOs and tars too: a throw there is a render's exit 70
      if (isText(f.path)) files.set(prefix + f.path, utf8(content));
    }
  }
  if (plan.delivery.server) {
    for (const node of plan.nodes.filter((n) => n.mac)) {
      const boot = hostBootScripts(plan, plan.delivery.server, node, 'install');
      files.set(`serve/${node.name}.ipxe`, boot.ipxe);
      files.set(`serve/${node.name}.grub.cfg`, boot.grub);
    }
  }
  files.set('bundle/fill-mirror.sh', renderFillScript(buildArtifactInventory(plan)));
  return { ...sortByLanguage(plan, files), files, verify };
}

function sortByLanguage(plan: RenderPlan, files: Map<string, string>): Omit<Emitted, 'files' | 'verify'> {
  const out: Omit<Emitted, 'files' | 'verify'> = { scripts: [], haproxy: [], nft: [], grub: [], hcl: [], yaml: [], preseed: [], keepalived: [], kernelArgs: [] };
  const runtime = imageRuntime(plan).files;
  const runtimeLibrary = runtime.find((f) => f.path === HOST_PATHS.library)!.content;
  for (const [path, text] of files) {
    if (/^cloud-init\/hosts\/[^/]+\/user-data$/.test(path)) {
      out.yaml.push({ name: path, text });
      // As validity.test.ts: whole scripts as they are, steps as the runner runs them (bash -euo pipefail, the library, the step).
      const ud = parse(text, { version: '1.1' }) as { write_files: WriteFile[]; runcmd?: unknown[] };
      const lib = ud.write_files.find((w) => w.path === HOST_PATHS.library)?.content ?? runtimeLibrary;
      for (const wf of ud.write_files) {
        const name = `${path}:${wf.path}`;
        if (wf.content.startsWith('#!/usr/sbin/nft')) out.nft.push(wf.content);
        else if (wf.content.startsWith('#!')) out.scripts.push({ name, text: wf.content, shell: wf.content.startsWith('#!/bin/sh') ? 'sh' : 'bash' });
        else if (wf.path.startsWith(`${HOST_PATHS.scriptDir}/`) && wf.path !== HOST_PATHS.library) out.scripts.push({ name, text: `#!/bin/bash\nset -euo pipefail\n${lib}${wf.content}`, shell: 'bash' });
        else if (wf.path.endsWith('haproxy.cfg')) out.haproxy.push(wf.content);
      }
      (ud.runcmd ?? []).forEach((c, i) => {
        if (Array.isArray(c) && c[0] === 'sh' && c[1] === '-c') out.scripts.push({ name: `${path}:runcmd[${i}]`, text: `#!/bin/sh\n${String(c[2])}\n`, shell: 'sh' });
      });
    } else if (/^cloud-init\/hosts\/[^/]+\/(meta-data|network-config)$/.test(path) || /^delivery\/pxe\/autoinstall\/.*(\.yaml|\/user-data|\/meta-data)$/.test(path) || /^delivery\/proxmox\/snippets\//.test(path)) {
      out.yaml.push({ name: path, text });
    } else if (/\.sh$/.test(path)) {
      out.scripts.push({ name: path, text, shell: text.startsWith('#!/bin/sh') ? 'sh' : 'bash' });
    } else if (/\/hosts\.json$/.test(path)) {
      const index = JSON.parse(text) as { hosts: Record<string, { kernelArgs: string[]; install: { kernelArgs: string[] } }> };
      for (const [host, h] of Object.entries(index.hosts)) {
        out.kernelArgs.push({ name: `${path}:${host}`, args: h.kernelArgs }, { name: `${path}:${host}:install`, args: h.install.kernelArgs });
      }
    } else if (/\.ipxe$/.test(path)) {
      // iPXE splits a line on whitespace (see src/render/delivery/pxe/ipxe.ts): the kernel gets the words after its URL.
      for (const m of text.matchAll(/^kernel \S+ (.*)$/gm)) out.kernelArgs.push({ name: path, args: m[1]!.split(/\s+/) });
    } else if (path === 'cloud-init/haproxy/haproxy.cfg') {
      out.haproxy.push(text);
    } else if (/\/grub\/grub\.cfg|\.grub\.cfg$/.test(path)) {
      out.grub.push(text);
    } else if (/\.pkr\.hcl$|\.pkrvars\.hcl$/.test(path)) {
      out.hcl.push({ name: path, text });
    } else if (/^delivery\/pxe\/preseed\/.*\.cfg$/.test(path)) {
      out.preseed.push({ name: path, text });
      // The installer runs these debconf values with busybox sh.
      for (const m of text.matchAll(/^d-i (preseed\/late_command|partman\/early_command) string (.*)$/gm)) {
        out.scripts.push({ name: `${path}:${m[1]}`, text: `#!/bin/sh\n${m[2]}\n`, shell: 'sh' });
      }
    }
  }
  for (const lb of plan.nodes.filter((n) => n.role === 'load-balancer')) {
    const conf = files.get(`cloud-init/keepalived/${lb.name}.conf`);
    if (!conf) continue;
    const ud = parse(files.get(`cloud-init/hosts/${lb.name}/user-data`)!, { version: '1.1' }) as { write_files: WriteFile[] };
    out.keepalived.push({ conf, check: ud.write_files.find((w) => w.path === HOST_PATHS.keepalivedCheck)!.content });
  }
  return out;
}
