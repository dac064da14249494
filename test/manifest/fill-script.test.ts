// The bundle's fill-mirror.sh, its package part run for real: against a signed test mirror standing
// in for pkgs.k8s.io (test/helpers/apt-repo.ts; curl is a shim that serves its files for the
// upstream URL), with the real apt-cache choosing the pinned versions from the signed indexes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptMirrorUnavailable, buildAptMirror } from '../helpers/apt-repo.js';
import { profile } from '../helpers/repo.js';
import { missingTools, run } from '../helpers/tools.js';
import { buildArtifactInventory } from '../../src/manifest/inventory.js';
import { buildPlan } from '../../src/plan/plan.js';
import { renderFillScript } from '../../src/render/bundle/fill-script.js';

const skip = aptMirrorUnavailable() ?? missingTools('apt-cache');
const topology = profile('default');
const m = buildArtifactInventory(buildPlan(topology));
const script = renderFillScript(m);

/** A function of the script, by name, as written there. */
const fn = (name: string): string => new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?^\\}$`, 'm').exec(script)?.[0] ?? assert.fail(`no ${name}() in the script`);
const repoLine = /^repo kubernetes .*$/m.exec(script)![0];

/** curl that answers for the upstream repository from the test mirror's folder (HTTP 404: exit 22). */
const CURL_SHIM = `#!/bin/bash
out='' url='' prev=''
for a in "$@"; do [ "$prev" = -o ] && out=$a; case "$a" in http*) url=$a ;; esac; prev=$a; done
echo "$url" >> "$FETCH_LOG"
file=$LOCAL_REPO/\${url#"$UPSTREAM"}
[ "\${url#"$UPSTREAM"}" != "$url" ] && [ -f "$file" ] || exit 22
cp "$file" "$out"
`;

function fill(specs: string): { status: number | null; stderr: string; dir: string; fetched: string[] } {
  const mirror = buildAptMirror(topology.kubernetes.version);
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-fill-'));
  writeFileSync(join(dir, 'curl'), CURL_SHIM);
  chmodSync(join(dir, 'curl'), 0o755);
  writeFileSync(join(dir, 'part.sh'), `set -euo pipefail\nmirror=${dir}/mirror\narch=amd64\n${fn('fetch')}\n${fn('repo')}\n${specs}\n`);
  const r = run('bash', [join(dir, 'part.sh')], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FETCH_LOG: join(dir, 'fetched'), LOCAL_REPO: join(mirror.dir, 'kubernetes'), UPSTREAM: m.repositories.kubernetes.upstream },
  });
  rmSync(mirror.dir, { recursive: true, force: true });
  return { status: r.status, stderr: r.stderr, dir, fetched: existsSync(join(dir, 'fetched')) ? readFileSync(join(dir, 'fetched'), 'utf8').trim().split('\n') : [] };
}

test("fill-mirror.sh: upstream's signed indexes and exactly the pinned packages (and their dependency), checked against the index's SHA256", { skip }, () => {
  const r = fill(repoLine);
  try {
    assert.equal(r.status, 0, r.stderr);
    const k8s = topology.kubernetes.version;
    const minor = k8s.split('.').slice(0, 2).join('.');
    assert.deepEqual(readFileSync(join(r.dir, 'mirror', 'kubernetes', 'PINNED'), 'utf8').trim().split('\n'), [
      `kubelet ${k8s}-1.1`,
      `kubeadm ${k8s}-1.1`,
      `kubectl ${k8s}-1.1`,
      `cri-tools ${minor}.0-1.1`,
      `kubernetes-cni ${minor}.0-1.1`,
    ]);
    for (const f of ['Release.key', 'InRelease', 'Packages', `kubeadm_${k8s}-1.1_all.deb`]) assert.ok(existsSync(join(r.dir, 'mirror', 'kubernetes', f)), f);
    // Nothing but the repository's files, each once.
    assert.ok(r.fetched.every((u) => u.startsWith(m.repositories.kubernetes.upstream)), r.fetched.join('\n'));
    assert.equal(r.fetched.filter((u) => u.endsWith('.deb')).length, 5, r.fetched.join('\n'));
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});

test('fill-mirror.sh: a pinned version the repository does not have stops it, naming package and repository', { skip }, () => {
  const r = fill(repoLine.replace(/kubectl=[^ ]+/, 'kubectl=1.99.0'));
  try {
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`kubectl 1\\.99\\.0 is not in ${m.repositories.kubernetes.upstream.replace(/[.:/]/g, '\\$&')}`));
  } finally {
    rmSync(r.dir, { recursive: true, force: true });
  }
});

/** A throw-away signing key in its own gpg home; returns the home and the key, armored. */
function testKey(name: string): { home: string; armored: string } {
  const home = mkdtempSync('/tmp/kb-gpg-');
  run('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-gen-key', `${name} <${name}@kubebake.invalid>`, 'ed25519', 'sign', 'never']);
  return { home, armored: run('gpg', ['--homedir', home, '--armor', '--export']).stdout };
}

/**
 * The script's packer_release against a local stand-in of releases.hashicorp.com: a zip, its
 * SHA256SUMS and a detached signature made by `signer`; the script is given `trusted` as the key.
 */
function packerRelease(opts: { tamperZip?: boolean; otherSigner?: boolean }): { status: number | null; stderr: string; dir: string } {
  const v = m.packer.version;
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-fill-packer-'));
  const releases = join(dir, 'releases');
  const trusted = testKey('hashicorp-standin');
  const signer = opts.otherSigner ? testKey('someone-else') : trusted;
  try {
    mkdirSync(releases);
    const zip = join(releases, `packer_${v}_linux_amd64.zip`);
    writeFileSync(zip, 'a zip as published\n');
    const sum = createHash('sha256').update(readFileSync(zip)).digest('hex');
    writeFileSync(join(releases, `packer_${v}_SHA256SUMS`), `${sum}  packer_${v}_linux_amd64.zip\n${'0'.repeat(64)}  packer_${v}_darwin_arm64.zip\n`);
    run('gpg', ['--homedir', signer.home, '--batch', '--yes', '--detach-sign', '-o', join(releases, `packer_${v}_SHA256SUMS.sig`), join(releases, `packer_${v}_SHA256SUMS`)]);
    if (opts.tamperZip) writeFileSync(zip, 'a zip someone changed\n');
    writeFileSync(join(dir, 'key.asc'), trusted.armored);
    writeFileSync(join(dir, 'curl'), CURL_SHIM);
    chmodSync(join(dir, 'curl'), 0o755);
    writeFileSync(join(dir, 'part.sh'), `set -euo pipefail\nmirror=${dir}/mirror\narch=amd64\n${fn('fetch')}\n${fn('packer_release')}\npacker_release ${v} ${dir}/key.asc\n`);
    const r = run('bash', [join(dir, 'part.sh')], {
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FETCH_LOG: join(dir, 'fetched'), LOCAL_REPO: releases, UPSTREAM: `https://releases.hashicorp.com/packer/${v}/` },
    });
    return { status: r.status, stderr: r.stderr, dir };
  } finally {
    for (const k of new Set([trusted, signer])) {
      spawnSync('gpgconf', ['--homedir', k.home, '--kill', 'gpg-agent']);
      rmSync(k.home, { recursive: true, force: true });
    }
  }
}

const packerSkip = missingTools('gpg', 'gpgv');

test("fill-mirror.sh: Packer's SHA256SUMS must carry HashiCorp's signature (the key beside the script) and list the zip as fetched", { skip: packerSkip }, () => {
  const v = m.packer.version;
  const good = packerRelease({});
  try {
    assert.equal(good.status, 0, good.stderr);
    for (const f of [`packer_${v}_SHA256SUMS`, `packer_${v}_SHA256SUMS.sig`, `packer_${v}_linux_amd64.zip`]) assert.ok(existsSync(join(good.dir, 'mirror', 'packer', f)), f);
  } finally {
    rmSync(good.dir, { recursive: true, force: true });
  }
  const foreign = packerRelease({ otherSigner: true });
  try {
    assert.notEqual(foreign.status, 0, 'a SUMS signed by another key passed');
    assert.match(foreign.stderr, new RegExp(`packer_${v.replace(/\./g, '\\.')}_SHA256SUMS is not signed by HashiCorp's release key`));
  } finally {
    rmSync(foreign.dir, { recursive: true, force: true });
  }
  const tampered = packerRelease({ tamperZip: true });
  try {
    assert.notEqual(tampered.status, 0, 'a zip whose checksum is not the signed one passed');
    assert.match(tampered.stderr, /checksum did NOT match/);
  } finally {
    rmSync(tampered.dir, { recursive: true, force: true });
  }
});
