// `kubebake render packer` and `kubebake bake images` end to end. Packer itself is not run: a
// STAND-IN script named `packer` is put first on PATH. It answers `packer version` with the pinned
// version (so kubebake accepts it without downloading anything), records each call's folder, args
// and the bake's key settings to a log, and checks that the private key file it is handed exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools, run } from '../helpers/tools.js';
import { PACKER_VERSION } from '../../src/packer/release.js';

const STAND_IN_PACKER = `#!/bin/sh
# STAND-IN for packer (test/cli/bake.test.ts). It is not Packer.
if [ "$1" = version ]; then echo "Packer v${PACKER_VERSION}"; exit 0; fi
key_file=missing
[ -f "$PKR_VAR_build_ssh_private_key_file" ] && key_file=present
printf '%s|%s|%s|%s|%s\\n' "$(basename "$(pwd)")" "$*" "$PKR_VAR_build_ssh_public_key" "$PKR_VAR_build_ssh_private_key_file" "$key_file" >> "$STAND_IN_LOG"
if [ "$1" = build ] && [ -f "$STAND_IN_FAIL_BUILD" ]; then echo "stand-in: build fails as asked" >&2; exit 1; fi
if [ "$1" = build ] && [ "$PKR_VAR_build_ssh_private_key_file" ]; then cp "$PKR_VAR_build_ssh_private_key_file" "$STAND_IN_KEY_COPY"; fi
exit 0
`;

interface Call { image: string; args: string; publicKey: string; keyFile: string; keyPresent: boolean }

function bakeEnv(dir: string): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'packer'), STAND_IN_PACKER);
  chmodSync(join(bin, 'packer'), 0o755);
  return {
    PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
    HOME: dir,
    XDG_CACHE_HOME: join(dir, 'cache'),
    // Anything that tried to download would fail here, not reach the network.
    KUBEBAKE_RELEASES_URL: 'http://127.0.0.1:9/unreachable',
    STAND_IN_LOG: join(dir, 'calls.log'),
    STAND_IN_FAIL_BUILD: join(dir, 'fail-build'),
    STAND_IN_KEY_COPY: join(dir, 'key-copy'),
  };
}

const kubebake = (env: NodeJS.ProcessEnv, ...args: string[]) => runKubebake(args, env);

const calls = (env: NodeJS.ProcessEnv): Call[] =>
  existsSync(env.STAND_IN_LOG!)
    ? readFileSync(env.STAND_IN_LOG!, 'utf8').trim().split('\n').map((l) => {
        const [image, args, publicKey, keyFile, present] = l.split('|');
        return { image: image!, args: args!, publicKey: publicKey!, keyFile: keyFile!, keyPresent: present === 'present' };
      })
    : [];

test('render packer writes every image folder under <out>/<cluster>/packer/ and is byte-stable', () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    const out = join(dir, 'out');
    const first = kubebake(env, 'render', 'packer', '-f', repoPath('profiles', 'default.yaml'), '-o', out);
    assert.equal(first.status, 0, first.stderr);
    for (const image of ['node-ubuntu-24-04', 'load-balancer-ubuntu-24-04']) {
      for (const file of ['image.pkr.hcl', 'variables.pkr.hcl', 'plugins.pkr.hcl', 'image.auto.pkrvars.hcl']) {
        assert.ok(existsSync(join(out, 'default', 'packer', image, file)), `${image}/${file}`);
      }
    }
    const hcl = readFileSync(join(out, 'default', 'packer', 'node-ubuntu-24-04', 'image.pkr.hcl'), 'utf8');
    const second = kubebake(env, 'render', 'packer', '-f', repoPath('profiles', 'default.yaml'), '-o', out);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, / 0 written, \d+ unchanged/);
    assert.equal(readFileSync(join(out, 'default', 'packer', 'node-ubuntu-24-04', 'image.pkr.hcl'), 'utf8'), hcl);
  }));

test('bake images: init, validate and build per image, with a fresh key pair that ssh-keygen reads and that is gone afterwards', { skip: missingTools('ssh-keygen') }, () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    const r = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'default.yaml'), '-o', join(dir, 'out'), '--parallel', '1');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`packer ${PACKER_VERSION.replace(/\./g, '\\.')} \\(path\\)`));
    const log = calls(env);
    const steps = log.map((c) => `${c.image}: ${c.args}`);
    assert.deepEqual(steps, [
      'node-ubuntu-24-04: init .',
      'node-ubuntu-24-04: validate .',
      'node-ubuntu-24-04: build -color=false .',
      'load-balancer-ubuntu-24-04: init .',
      'load-balancer-ubuntu-24-04: validate .',
      'load-balancer-ubuntu-24-04: build -color=false .',
    ]);
    // One key pair for the whole bake, present while packer runs, deleted afterwards.
    assert.equal(new Set(log.map((c) => c.publicKey)).size, 1);
    assert.match(log[0]!.publicKey, /^ssh-ed25519 AAAA[0-9A-Za-z+/=]+ kubebake-build$/);
    assert.ok(log.every((c) => c.keyPresent), 'the private key file exists while packer runs');
    assert.ok(!existsSync(log[0]!.keyFile), 'the private key is deleted after the bake');
    // ssh-keygen (OpenSSH) derives the same public key from the private key kubebake handed over.
    chmodSync(env.STAND_IN_KEY_COPY!, 0o600);
    const derived = run('ssh-keygen', ['-y', '-f', env.STAND_IN_KEY_COPY!]);
    assert.equal(derived.status, 0, derived.stderr);
    assert.equal(derived.stdout.trim().split(' ').slice(0, 2).join(' '), log[0]!.publicKey.split(' ').slice(0, 2).join(' '));
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY/);
  }));

test('bake images --only and --dry-run: only that image, init and validate only', () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    const r = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'default.yaml'), '-o', join(dir, 'out'), '--only', 'load-balancer-ubuntu-24-04', '--dry-run');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(calls(env).map((c) => `${c.image}: ${c.args}`), ['load-balancer-ubuntu-24-04: init .', 'load-balancer-ubuntu-24-04: validate .']);
  }));

test('bake images: a failed build exits 1; an unknown --only image or a bad --parallel is a usage error (2) that runs nothing', () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    writeFileSync(env.STAND_IN_FAIL_BUILD!, '');
    const failed = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'default.yaml'), '-o', join(dir, 'out'));
    assert.equal(failed.status, 1, failed.stdout + failed.stderr);
    assert.match(failed.stdout, /build fails as asked/);

    const before = calls(env).length;
    const unknown = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'default.yaml'), '-o', join(dir, 'out'), '--only', 'node-debian-12');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no such image in cluster "default"\n\s+hint: its images are node-ubuntu-24-04, load-balancer-ubuntu-24-04/);
    const parallel = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'default.yaml'), '-o', join(dir, 'out'), '--parallel', '0');
    assert.equal(parallel.status, 2);
    assert.equal(calls(env).length, before, 'packer was not run');
  }));

test('bake images: without a usable Packer the download error is named, with a hint, and no stack trace', () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    const r = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'default.yaml'), '-o', join(dir, 'out'), '--packer-version', '1.9.9');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /^kubebake: .*127\.0\.0\.1:9/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
    assert.equal(calls(env).length, 0);
  }));

test('bake images on an invalid topology exits 1 and writes nothing', () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    const r = kubebake(env, 'bake', 'images', '-f', repoPath('test', 'bad', 'duplicate-ip.yaml'), '-o', join(dir, 'out'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /duplicate-ip\.yaml:\d+:\d+/);
    assert.ok(!existsSync(join(dir, 'out')));
  }));

test('bake images for a proxmox-clone profile names each missing PKR_VAR_ setting before running Packer', () =>
  withTempDir((dir) => {
    const env = bakeEnv(dir);
    const r = kubebake(env, 'bake', 'images', '-f', repoPath('profiles', 'baked.yaml'), '-o', join(dir, 'out'));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    for (const v of ['proxmox_url', 'proxmox_username', 'proxmox_token', 'proxmox_node', 'proxmox_clone_vm']) assert.match(r.stderr, new RegExp(`PKR_VAR_${v} is not set`));
    assert.doesNotMatch(r.stderr, /PKR_VAR_proxmox_bridge/, 'settings with a default are not demanded');
    assert.equal(calls(env).length, 0);

    const set = { ...env, PKR_VAR_proxmox_url: 'https://pve.test:8006/api2/json', PKR_VAR_proxmox_username: 'packer@pve!kb', PKR_VAR_proxmox_token: 'not-a-real-token', PKR_VAR_proxmox_node: 'pve1', PKR_VAR_proxmox_clone_vm: 'ubuntu-24-04-cloud' };
    const ok = kubebake(set, 'bake', 'images', '-f', repoPath('profiles', 'baked.yaml'), '-o', join(dir, 'out'), '--dry-run');
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.ok(calls(set).every((c) => c.publicKey === '' && c.keyFile === ''), 'proxmox-clone gets no key pair: Packer passes its own');
    assert.doesNotMatch(ok.stdout + ok.stderr, /not-a-real-token/);
  }));
