// Every file render cloud-init emits, for every profile, checked by tools nobody here wrote:
// cloud-init's upstream JSON schemas (ajv), Debian's `cloud-init schema`, shellcheck, haproxy -c,
// keepalived -t.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv04 from 'ajv-draft-04';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { PROFILES, renderProfile, text } from '../helpers/cluster.js';
import { haproxyCheck, keepalivedCheck, missingTools, run, shellcheck, tempFiles } from '../helpers/tools.js';
import { HOST_PATHS } from '../../src/plan/host-paths.js';
import { imageRuntime } from '../../src/manifest/runtime.js';

const KEEPALIVED_CHECK_PATH = HOST_PATHS.keepalivedCheck;

// Upstream cloud-init schemas, vendored unchanged (see test/fixtures/cloud-init-schemas/SOURCE.md).
const schemaDir = new URL('../../../test/fixtures/cloud-init-schemas/', import.meta.url);
const loadSchema = (name: string): object => JSON.parse(readFileSync(new URL(name, schemaDir), 'utf8'));

// cloud-init's config schema says draft-04 and uses its own keywords: compile as upstream does.
const ajv04 = new Ajv04.default({ strict: false, allErrors: true });
addFormats.default(ajv04 as never);
const validateCloudConfig = ajv04.compile(loadSchema('schema-cloud-config-v1.json'));
const ajv07 = new Ajv.default({ strict: false, allErrors: true });
addFormats.default(ajv07);
const validateNetworkV2 = ajv07.compile(loadSchema('schema-network-config-v2.json'));

interface WriteFile { path: string; content: string; permissions?: string }

for (const name of PROFILES) {
  test(`profile ${name}: user-data and network-config pass cloud-init's schemas`, async () => {
    const { plan, tree } = await renderProfile(name);
    for (const node of plan.nodes) {
      // cloud-init parses with PyYAML (YAML 1.1).
      const userData = parse(text(tree, `hosts/${node.name}/user-data`), { version: '1.1' });
      assert.ok(validateCloudConfig(userData), `${node.name} user-data: ${JSON.stringify(validateCloudConfig.errors, null, 1)}`);
      const net = parse(text(tree, `hosts/${node.name}/network-config`), { version: '1.1' });
      assert.ok(validateNetworkV2(net), `${node.name} network-config: ${JSON.stringify(validateNetworkV2.errors, null, 1)}`);
    }
  });

  test(`profile ${name}: Debian's cloud-init schema --config-file accepts every user-data`, { skip: missingTools('cloud-init') }, async () => {
    const { plan, tree } = await renderProfile(name);
    const files = Object.fromEntries(
      plan.nodes.map((n) => [`${n.name}.user-data.yaml`, text(tree, `hosts/${n.name}/user-data`)]),
    );
    const { dir, cleanup } = tempFiles(files);
    try {
      for (const f of Object.keys(files)) {
        const r = run('cloud-init', ['schema', '--config-file', `${dir}/${f}`]);
        assert.equal(r.status, 0, `${f}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, /Valid (cloud-config|schema)/);
      }
    } finally {
      cleanup();
    }
  });

  test(`profile ${name}: YAML reads the same under YAML 1.1 (PyYAML) and 1.2`, async () => {
    const { plan, tree } = await renderProfile(name);
    for (const n of plan.nodes) {
      for (const f of ['user-data', 'meta-data', 'network-config']) {
        const t = text(tree, `hosts/${n.name}/${f}`);
        assert.deepEqual(parse(t, { version: '1.1' }), parse(t, { version: '1.2' }), `${n.name}/${f} differs between YAML 1.1 and 1.2`);
      }
      const ud = parse(text(tree, `hosts/${n.name}/user-data`), { version: '1.1' }) as { write_files: WriteFile[] };
      // Absent: cloud-init's default, 0644 (cc_write_files DEFAULT_PERMS).
      for (const wf of ud.write_files) if (wf.permissions !== undefined) assert.match(wf.permissions, /^0[0-7]{3}$/, `${wf.path} mode must be a quoted octal string`);
    }
  });

  test(`profile ${name}: every emitted script passes shellcheck -S warning`, { skip: missingTools('shellcheck') }, async () => {
    const { plan, tree } = await renderProfile(name);
    const scripts: Record<string, string> = {};
    for (const n of plan.nodes) {
      const ud = parse(text(tree, `hosts/${n.name}/user-data`), { version: '1.1' }) as { write_files: WriteFile[]; runcmd: string[][] };
      // runcmd's check of a baked image's unit: sh -c SCRIPT.
      const [cmd, flag, check] = ud.runcmd[0]!;
      if (cmd === 'sh' && flag === '-c') scripts[`${n.name}:runcmd`] = `#!/bin/sh\n${check}\n`;
      // Whole scripts (the runner, keepalived's check) as they are; steps as the runner runs them:
      // bash -euo pipefail, the host's helper library, then the step.
      // A baked host's library is the image's.
      const lib = (ud.write_files.find((w) => w.path === HOST_PATHS.library) ?? imageRuntime(plan).files.find((f) => f.path === HOST_PATHS.library)!).content;
      for (const wf of ud.write_files) {
        if (wf.content.startsWith('#!') && !wf.content.startsWith('#!/usr/sbin/nft')) scripts[`${n.name}:${wf.path}`] = wf.content;
        else if (wf.path.startsWith(`${HOST_PATHS.scriptDir}/`) && wf.path !== HOST_PATHS.library) {
          scripts[`${n.name}:${wf.path}`] = `#!/bin/bash\nset -euo pipefail\n${lib}${wf.content}`;
        }
      }
    }
    // Steps a baked host runs from its image (resolver, firewall, a worker's join), as it runs them.
    if (plan.image === 'baked') {
      const runtime = imageRuntime(plan).files;
      const lib = runtime.find((f) => f.path === HOST_PATHS.library)!.content;
      for (const f of runtime.filter((f) => f.path.startsWith(`${HOST_PATHS.scriptDir}/`) && f.path !== HOST_PATHS.library && f.path !== HOST_PATHS.firstboot)) {
        scripts[`image:${f.path}`] = `#!/bin/bash\nset -euo pipefail\n${lib}${f.content}`;
      }
    }
    assert.ok(Object.keys(scripts).length >= plan.nodes.length * (plan.image === 'baked' ? 1 : 3));
    assert.equal(shellcheck(scripts), '');
  });

  test(`profile ${name}: haproxy -c accepts haproxy.cfg`, { skip: missingTools('haproxy') }, async () => {
    const { tree } = await renderProfile(name);
    const r = haproxyCheck(text(tree, 'haproxy/haproxy.cfg'));
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test(`profile ${name}: keepalived -t accepts every keepalived.conf (and without a VIP there is none)`, { skip: missingTools('keepalived', 'unshare', 'ip') }, async () => {
    const { plan, tree } = await renderProfile(name);
    if (!plan.vip) {
      assert.deepEqual(tree.files().map((f) => f.path).filter((p) => p.includes('keepalived')), []);
      for (const lb of plan.nodes.filter((n) => n.role === 'load-balancer')) assert.doesNotMatch(text(tree, `hosts/${lb.name}/user-data`), /keepalived/);
      return;
    }
    const lbs = plan.nodes.filter((n) => n.role === 'load-balancer');
    for (const lb of lbs) {
      const ud = parse(text(tree, `hosts/${lb.name}/user-data`), { version: '1.1' }) as { write_files: WriteFile[] };
      const check = ud.write_files.find((w) => w.path === KEEPALIVED_CHECK_PATH);
      assert.ok(check, 'the health-check script ships with the config');
      const conf = text(tree, `keepalived/${lb.name}.conf`);
      const r = keepalivedCheck(conf.replaceAll(KEEPALIVED_CHECK_PATH, '/etc/keepalived/check-haproxy.sh'), { 'check-haproxy.sh': check.content });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    }
  });
}
