// The first-boot unit, checked by systemd itself (`systemd-analyze verify`, which loads the unit
// with this machine's units the way PID 1 would and checks its keys, its type and that ExecStart
// is an executable), and its ordering against cloud-init's own units as Debian installs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHostManifests } from '../../src/manifest/host-manifest.js';
import { imageRuntime } from '../../src/manifest/runtime.js';
import { HOST_PATHS, unitName } from '../../src/plan/host-paths.js';
import { fixtureSecrets, PROFILES, renderPlan } from '../helpers/cluster.js';
import { profile } from '../helpers/repo.js';
import { missingTools, run } from '../helpers/tools.js';

const skip = process.getuid?.() !== 0 ? 'needs root (a private mount namespace holds the runner the unit starts)' : missingTools('systemd-analyze', 'unshare', 'cloud-init');

/**
 * `systemd-analyze verify` of a unit file. The runner it starts must exist where the unit says:
 * a tmpfs over its folder, in a private mount namespace, holds an executable stand-in for it.
 */
function verify(unit: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-unit-'));
  try {
    const file = join(dir, unitName(HOST_PATHS.firstbootUnit));
    writeFileSync(file, unit);
    const runnerDir = HOST_PATHS.firstboot.slice(0, HOST_PATHS.firstboot.lastIndexOf('/'));
    const inner = `set -e; mkdir -p ${runnerDir}; mount -t tmpfs tmpfs ${runnerDir}; printf '#!/bin/sh\\n' > ${HOST_PATHS.firstboot}; chmod 755 ${HOST_PATHS.firstboot}; systemd-analyze verify --man=no "$1"`;
    const r = run('unshare', ['--mount', 'sh', '-c', inner, 'verify', file]);
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const units = async (): Promise<Map<string, string>> => {
  const found = new Map<string, string>();
  const secrets = await fixtureSecrets();
  for (const name of PROFILES) {
    const plan = await renderPlan(profile(name));
    for (const m of buildHostManifests(plan, secrets)) {
      // A first-boot host gets the unit in its user-data, a baked one from its image.
      const f = m.files.find((x) => x.path === HOST_PATHS.firstbootUnit);
      assert.ok(f || m.runtime === 'image', `${name}/${m.node.name}: a first-boot host gets the unit`);
      if (f) found.set(`${name}/${m.node.name}`, f.content);
    }
    const baked = imageRuntime(plan).files.find((x) => x.path === HOST_PATHS.firstbootUnit);
    assert.ok(baked, `${name}: a baked image carries the unit`);
    found.set(`${name} image`, baked.content);
  }
  return found;
};

test('the first-boot unit of every host and image passes systemd-analyze verify; a misspelled one does not', { skip }, async () => {
  const all = await units();
  for (const content of new Set(all.values())) {
    const r = verify(content);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim(), '', 'no warning either');
  }
  const [one] = all.values();
  const broken = verify(one!.replace('Type=oneshot', 'Type=oneshoot'));
  assert.match(broken.out, /Failed to parse service type/, 'the checker does check');
});

/** The After= units of a unit file (all After= lines). */
const after = (content: string): string[] => [...content.matchAll(/^After=(.*)$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/));

test('the unit is wanted by multi-user.target and is not ordered after anything that waits for multi-user.target (no cycle with cloud-final)', { skip }, async () => {
  const [content] = (await units()).values();
  assert.match(content!, /^WantedBy=multi-user\.target$/m);
  // Follow After= through the units this machine has (cloud-init's from its Debian package):
  // none may lead to multi-user.target, which is ordered after the units it wants (this one).
  const seen = new Set<string>();
  const todo = after(content!);
  while (todo.length) {
    const u = todo.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    assert.notEqual(u, 'multi-user.target', `ordered after multi-user.target through ${[...seen].join(', ')}`);
    for (const dir of ['/etc/systemd/system', '/lib/systemd/system']) {
      if (existsSync(join(dir, u))) {
        todo.push(...after(readFileSync(join(dir, u), 'utf8')));
        break;
      }
    }
  }
  assert.ok(seen.has('cloud-config.service'), 'after cloud-init has written the files and the network is up');
  // The check itself: cloud-final.service (what the runner used to run under) leads to multi-user.target.
  assert.ok(after(readFileSync('/lib/systemd/system/cloud-final.service', 'utf8')).includes('multi-user.target'));
});
