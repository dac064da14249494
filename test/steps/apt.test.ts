// apt_get against the real apt-get (Debian's), in a private network namespace and with its own
// state folders: the failures an operator meets at first boot — no DNS, an unreachable mirror, a
// package the repository does not have — and the status line each leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APT_GET } from '../../src/steps/helpers.js';
import { helperClosure } from '../../src/steps/step.js';

const skip = process.getuid?.() !== 0 ? 'needs root (a private network namespace)' : spawnSync('sh', ['-c', 'command -v apt-get']).status !== 0 ? 'apt-get is not installed' : undefined;

/** Runs `apt_get ARGS` with the helpers as a host has them; `sources` replaces the apt sources. */
function aptGet(args: string, sources?: string): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-apt-'));
  try {
    for (const d of ['lists/partial', 'cache/archives/partial', 'bin', 'sources.list.d']) mkdirSync(join(dir, d), { recursive: true });
    // apt's own state stays in the test's folder; no waiting between apt's retries or ours.
    const conf = [
      `Dir::State::Lists "${dir}/lists";`,
      `Dir::Cache "${dir}/cache";`,
      'Acquire::Retries::Delay "false";',
      ...(sources !== undefined ? [`Dir::Etc::SourceList "${dir}/sources.list";`, `Dir::Etc::SourceParts "${dir}/sources.list.d";`] : []),
    ];
    writeFileSync(join(dir, 'apt.conf'), conf.join('\n') + '\n');
    if (sources !== undefined) writeFileSync(join(dir, 'sources.list'), sources);
    writeFileSync(join(dir, 'bin', 'sleep'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(dir, 'bin', 'sleep'), 0o755);
    const lib = helperClosure([{ helpers: [APT_GET] }]).map((h) => h.code).join('\n');
    const script = `set -euo pipefail\nip link set lo up\n${lib}\napt_get ${args}`;
    const r = spawnSync('unshare', ['--net', 'bash', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, APT_CONFIG: join(dir, 'apt.conf'), PATH: `${dir}/bin:${process.env.PATH}` },
      timeout: 120_000,
    });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lastLine = (out: string): string => out.trim().split('\n').pop()!;

test('no DNS: apt-get update (which exits 0) fails after five attempts, naming the name it could not resolve', { skip }, () => {
  const r = aptGet('update', 'deb http://deb.debian.org/debian bookworm main\n');
  assert.equal(r.status, 1, r.out);
  assert.equal((r.out.match(/retrying$/gm) ?? []).length, 4, r.out);
  assert.equal(lastLine(r.out), "apt-get update failed: DNS failure: cannot resolve deb.debian.org (check network.dns and the host's resolver)");
});

test('an unreachable mirror is named as such; the last attempt does not say "retrying"', { skip }, () => {
  const r = aptGet('update', 'deb http://127.0.0.1:9/debian bookworm main\n');
  assert.equal(r.status, 1, r.out);
  assert.match(lastLine(r.out), /^apt-get update failed: mirror unreachable: 127\.0\.0\.1:9/);
  assert.doesNotMatch(lastLine(r.out), /retrying/);
});

test('a package the repository does not have fails at once (a retry cannot fix it)', { skip }, () => {
  const r = aptGet('-s install no-such-package-kubebake');
  assert.equal(r.status, 1, r.out);
  assert.doesNotMatch(r.out, /retrying/);
  assert.equal(lastLine(r.out), 'apt-get -s install no-such-package-kubebake failed: package missing from the repository: Unable to locate package no-such-package-kubebake');
});
