// A signed apt mirror the sandbox's real apt installs from (test/helpers/sandbox.ts, BootOptions.mirror):
// packages built with dpkg-deb under the names, versions and dependencies of the package table
// (test/helpers/packages.ts, which cites upstream packaging), whose commands are the recording
// stand-ins; indexes made by apt-ftparchive (apt-utils) and signed with a throw-away test key (gpg).
//
// Layout (the topology's mirrors point at it):
//   kubernetes/  flat repository (deb URL /) of kubeadm, kubelet, kubectl, cri-tools, kubernetes-cni
//   cri-o/       flat repository of cri-o
//   With several Kubernetes versions (an upgrade's two minors), one such pair per minor, as
//   pkgs.k8s.io (core:/stable:/v1.N/deb/) and isv:cri-o (stable:/v1.N/deb/) publish them:
//   kubernetes/v1.36/, kubernetes/v1.37/, cri-o/v1.36/, cri-o/v1.37/.
//   debian/      an OS archive: dists/bookworm and bookworm-updates, main, with the OS packages of
//                the table that this machine lacks (what it has, apt finds installed already)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageTable, type PackageDef } from './packages.js';
import { minorOf } from '../../src/topology/facts/versions.js';
import type { Mirrors } from '../../src/topology/types.js';
import { repoPath } from './repo.js';
import { missingTools } from './tools.js';

export interface AptMirror {
  /** The folder to serve. */
  dir: string;
  /** The armored public key that signed every index. */
  key: string;
  /** What the repositories hold, by repository. */
  packages: Record<'kubernetes' | 'cri-o' | 'debian', PackageDef[]>;
}

const KUBERNETES = ['kubeadm', 'kubelet', 'kubectl', 'cri-tools', 'kubernetes-cni'];
const CRIO = ['cri-o'];
const CODENAME = 'bookworm';

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Why the mirror cannot be built here, or undefined. */
export function aptMirrorUnavailable(): string | undefined {
  return missingTools('dpkg-deb', 'apt-ftparchive', 'gpg');
}

const installedHere = (name: string): boolean =>
  spawnSync('dpkg-query', ['-W', '-f', '${Status}', name], { encoding: 'utf8' }).stdout === 'install ok installed';

/** A .deb whose commands are links to the sandbox's stand-in. */
function buildDeb(p: PackageDef, out: string): void {
  const root = mkdtempSync(join(tmpdir(), 'kubebake-deb-'));
  try {
    mkdirSync(join(root, 'DEBIAN'));
    const control = [
      `Package: ${p.name}`,
      `Version: ${p.version}`,
      'Architecture: all',
      'Maintainer: kubebake tests <tests@kubebake.invalid>',
      ...(p.depends.length ? [`Depends: ${p.depends.join(', ')}`] : []),
      `Description: stand-in for ${p.name} (kubebake's sandbox; not the real package)`,
    ];
    writeFileSync(join(root, 'DEBIAN', 'control'), control.join('\n') + '\n');
    for (const c of p.commands) {
      mkdirSync(join(root, c, '..'), { recursive: true });
      symlinkSync('/usr/local/sbin/stand-in', join(root, c));
    }
    run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, join(out, `${p.name}_${p.version.replace(/^\d+:/, '')}_all.deb`)]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Release for a folder, signed inline (InRelease), as apt verifies it. */
function signRelease(dir: string, gnupg: string, fields: Record<string, string>): void {
  const opts = Object.entries(fields).flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${v}`]);
  writeFileSync(join(dir, 'Release'), run('apt-ftparchive', [...opts, 'release', '.'], { cwd: dir }));
  run('gpg', ['--homedir', gnupg, '--batch', '--yes', '--clearsign', '-o', join(dir, 'InRelease'), join(dir, 'Release')]);
}

/** The folder of a repository in a mirror of several minors ("kubernetes/v1.37"), or of one ("kubernetes"). */
export const repoFolder = (repo: 'kubernetes' | 'cri-o', version?: string): string => (version ? `${repo}/v${minorOf(version)}` : repo);

/**
 * Builds the mirror for a Kubernetes version (or for several, each minor in its own folders) into
 * a new folder (the caller removes it); `omit`: packages it lacks.
 */
export function buildAptMirror(kubernetesVersion: string | string[], opts: { omit?: string[] } = {}): AptMirror {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-mirror-'));
  const gnupg = mkdtempSync('/tmp/kb-gpg-');
  try {
    run('gpg', ['--homedir', gnupg, '--batch', '--passphrase', '', '--quick-gen-key', 'kubebake test mirror <mirror@kubebake.invalid>', 'ed25519', 'sign', 'never']);
    const key = run('gpg', ['--homedir', gnupg, '--armor', '--export']);
    const versions = Array.isArray(kubernetesVersion) ? kubernetesVersion : [kubernetesVersion];
    const tableOf = (v: string): PackageDef[] => packageTable(v).filter((p) => !opts.omit?.includes(p.name));
    const table = tableOf(versions[0]!);
    const packages = {
      kubernetes: versions.flatMap((v) => tableOf(v).filter((p) => KUBERNETES.includes(p.name))),
      'cri-o': versions.flatMap((v) => tableOf(v).filter((p) => CRIO.includes(p.name))),
      debian: table.filter((p) => !KUBERNETES.includes(p.name) && !CRIO.includes(p.name) && !installedHere(p.name)),
    };
    for (const v of versions) {
      for (const repo of ['kubernetes', 'cri-o'] as const) {
        const at = join(dir, repoFolder(repo, versions.length > 1 ? v : undefined));
        mkdirSync(at, { recursive: true });
        for (const p of tableOf(v).filter((p) => (repo === 'kubernetes' ? KUBERNETES : CRIO).includes(p.name))) buildDeb(p, at);
        writeFileSync(join(at, 'Packages'), run('apt-ftparchive', ['packages', '.'], { cwd: at }));
        // As pkgs.k8s.io and isv:cri-o publish it next to the indexes.
        writeFileSync(join(at, 'Release.key'), key);
        signRelease(at, gnupg, {});
      }
    }
    const os = join(dir, 'debian');
    mkdirSync(join(os, 'pool'), { recursive: true });
    for (const p of packages.debian) buildDeb(p, join(os, 'pool'));
    for (const suite of [CODENAME, `${CODENAME}-updates`]) {
      const dist = join(os, 'dists', suite);
      mkdirSync(join(dist, 'main', 'binary-amd64'), { recursive: true });
      // The updates suite is empty, as a mirror's often is between point releases.
      const index = suite === CODENAME ? run('apt-ftparchive', ['packages', 'pool'], { cwd: os }) : '';
      writeFileSync(join(dist, 'main', 'binary-amd64', 'Packages'), index);
      signRelease(dist, gnupg, { Suite: suite, Codename: suite, Components: 'main', Architectures: 'amd64' });
    }
    return { dir, key, packages };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent']);
    rmSync(gnupg, { recursive: true, force: true });
  }
}

/** The index apt read for a repository (to compare with what got installed). */
export const mirrorIndex = (m: AptMirror, repo: string): string => readFileSync(join(m.dir, repo, 'Packages'), 'utf8');

/**
 * A topology's mirrors for a mirror of several minors served at `url` (no trailing slash): the
 * Kubernetes and CRI-O repositories of `version`'s minor, the OS archive, each signed by the mirror's key.
 */
export function mirrorsFor(m: AptMirror, url: string, version: string): Mirrors {
  return {
    kubernetes: { url: `${url}/${repoFolder('kubernetes', version)}/`, key: m.key },
    crio: { url: `${url}/${repoFolder('cri-o', version)}/`, key: m.key },
    os: { url: `${url}/debian/`, key: m.key },
    keepInImage: true,
  };
}

/** dpkg's status file as "name" → "version status" (e.g. "1.37.2-1.1 hold ok installed"). */
export function dpkgStatus(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const stanza of text.split(/\n\n+/)) {
    const field = (name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1] ?? '';
    if (field('Package')) out.set(field('Package'), `${field('Version')} ${field('Status')}`);
  }
  return out;
}

export interface ServedMirror { url: string; /** Requests served: "GET <path> <status>". */ log(): string[]; close(): Promise<void> }

/** Serves a mirror on this machine at http://127.0.0.1:port (test/helpers/mirror_server.py), for hosts that share its network. */
export async function serveAptMirror(m: AptMirror, port: number, logFile: string): Promise<ServedMirror> {
  writeFileSync(logFile, '');
  const child = spawn('python3', [repoPath('test', 'helpers', 'mirror_server.py'), 'serve', m.dir, '127.0.0.1', String(port), logFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the mirror server ended: ${stderr}`);
    try {
      if ((await fetch(`${url}/debian/dists/${CODENAME}/InRelease`)).ok) break;
    } catch {
      if (i >= 100) throw new Error(`the mirror server did not answer on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  writeFileSync(logFile, '');
  return {
    url,
    log: () => readFileSync(logFile, 'utf8').split('\n').filter(Boolean),
    close: async () => {
      if (child.exitCode !== null) return;
      const ended = new Promise((r) => child.once('close', r));
      child.kill();
      await ended;
    },
  };
}
