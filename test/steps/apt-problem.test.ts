// apt_problem (src/steps/sh/apt_problem.sh) reading what the real apt-get (Debian's, 2.x) prints
// for the problems an operator can fix, produced here from a local file: repository and a dpkg
// status file of the test's own (no network, no change to this machine's apt): a package the
// repository does not have, one it only names, a version it does not have, a held package, a
// repository without a signature. And apt_get (apt_get.sh) giving up at once on each of them,
// since a retry cannot fix them. The network failures (DNS, an unreachable mirror) are in
// apt.test.ts, which needs a private network namespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';
import { missingTools } from '../helpers/tools.js';

const skip = missingTools('apt-get', 'apt-ftparchive');
const sh = (name: string): string => repoPath('src', 'steps', 'sh', name);

/**
 * A flat repository (file:) holding kb-a 1.0-1 (which depends on kb-ghost, which nothing
 * provides) and kb-held 2.0-1, and a dpkg status in which kb-held 1.0-1 is installed and held.
 * `trusted`: false leaves out [trusted=yes], so apt refuses the unsigned Release.
 */
function aptFixture(dir: string, trusted: boolean): NodeJS.ProcessEnv {
  for (const d of ['lists/partial', 'cache/archives/partial', 'repo', 'parts']) mkdirSync(join(dir, d), { recursive: true });
  const pkg = (name: string, version: string, extra: string[] = []): string =>
    [`Package: ${name}`, `Version: ${version}`, 'Architecture: all', ...extra, `Filename: ${name}_${version}_all.deb`, 'Size: 100', 'Description: test fixture', ''].join('\n');
  writeFileSync(join(dir, 'repo', 'Packages'), `${pkg('kb-a', '1.0-1', ['Depends: kb-ghost'])}\n${pkg('kb-held', '2.0-1')}`);
  const release = spawnSync('apt-ftparchive', ['release', '.'], { cwd: join(dir, 'repo'), encoding: 'utf8' });
  assert.equal(release.status, 0, release.stderr);
  writeFileSync(join(dir, 'repo', 'Release'), release.stdout);
  writeFileSync(join(dir, 'status'), ['Package: kb-held', 'Status: hold ok installed', 'Version: 1.0-1', 'Architecture: all', 'Maintainer: tests', 'Description: test fixture', '', ''].join('\n'));
  writeFileSync(join(dir, 'sources.list'), `deb ${trusted ? '[trusted=yes] ' : ''}file:${join(dir, 'repo')} ./\n`);
  writeFileSync(join(dir, 'apt.conf'), [
    `Dir::State::Lists "${dir}/lists";`,
    `Dir::Cache "${dir}/cache";`,
    `Dir::State::status "${dir}/status";`,
    `Dir::Etc::SourceList "${dir}/sources.list";`,
    `Dir::Etc::SourceParts "${dir}/parts";`,
    '',
  ].join('\n'));
  return { ...process.env, APT_CONFIG: join(dir, 'apt.conf'), LC_ALL: 'C' };
}

/** Runs bash with the helper files sourced; `sleep` records instead of sleeping. */
function bash(script: string, env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const r = spawnSync('bash', ['-c', `set -euo pipefail; . "$1"; . "$2"; sleep() { echo "slept $1"; }; ${script}`, '-', sh('apt_problem.sh'), sh('apt_get.sh')], { encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** What apt_problem makes of the real apt-get's output for ARGS. */
function problem(args: string, env: NodeJS.ProcessEnv): { apt: string; why: string } {
  const apt = spawnSync('bash', ['-c', `apt-get -o Acquire::Retries=0 ${args} 2>&1`], { encoding: 'utf8', env }).stdout;
  return { apt, why: bash('apt_problem "$APT_OUT"', { ...env, APT_OUT: apt }).out };
}

test('a package, a version or a package the repository only names: "package missing", apt\'s own words', { skip }, () => withTempDir((dir) => {
  const env = aptFixture(dir, true);
  const update = problem('update', env);
  assert.equal(update.why, '', `a clean update is no problem: ${update.apt}`);
  for (const [args, words] of [
    ['-s install kb-nothing', 'Unable to locate package kb-nothing'],
    ['-s install kb-ghost', "Package 'kb-ghost' has no installation candidate"],
    ['-s install kb-a=9.9', "Version '9.9' for 'kb-a' was not found"],
  ]) {
    const r = problem(args!, env);
    assert.match(r.apt, new RegExp(`^E: ${words!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), 'apt says so');
    assert.equal(r.why, `package missing from the repository: ${words}\n`, args);
  }
}));

test('a held package in the way, and a repository without a signature, are named', { skip }, () => withTempDir((dir) => {
  const env = aptFixture(dir, true);
  problem('update', env);
  const held = problem('-s -y install kb-held', env);
  assert.match(held.apt, /^E: Held packages were changed/m);
  assert.equal(held.why, 'a held package is in the way (apt-mark showhold)\n');

  const unsigned = problem('update', aptFixture(join(dir, 'unsigned'), false));
  assert.match(unsigned.apt, /^E: The repository '.*' is not signed\.$/m);
  assert.equal(unsigned.why, `repository signature not trusted: file:${join(dir, 'unsigned', 'repo')} ./ Release (check its signing key, mirrors.*.key in the topology)\n`);
}));

test('apt_get gives up at once where a retry cannot help, saying why', { skip }, () => withTempDir((dir) => {
  const env = aptFixture(dir, true);
  assert.equal(bash('apt_get update', env).status, 0);
  for (const [args, why] of [
    ['-s install kb-held', 'a held package is in the way (apt-mark showhold)'],
    ['-s install kb-a=9.9', "package missing from the repository: Version '9.9' for 'kb-a' was not found"],
  ]) {
    const r = bash(`apt_get ${args}`, env);
    assert.equal(r.status, 1, r.out);
    assert.doesNotMatch(r.out, /retrying|slept/, args);
    assert.equal(r.out.trim().split('\n').pop(), `apt-get ${args} failed: ${why}`);
  }
  const unsigned = bash('apt_get update', aptFixture(join(dir, 'unsigned'), false));
  assert.equal(unsigned.status, 1, unsigned.out);
  assert.doesNotMatch(unsigned.out, /retrying|slept/);
  assert.match(unsigned.out.trim().split('\n').pop()!, /^apt-get update failed: repository signature not trusted: file:/);
}));
