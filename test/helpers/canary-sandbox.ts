// Runs generated scripts where nothing they do can touch this machine, to see whether text from
// the topology ever runs as a command. Each script runs in private mount, network and PID
// namespaces, chrooted into a throw-away overlay of this machine's root (as test/helpers/
// sandbox.ts does), with a PATH that holds only `kbcanary`: a stand-in that records which script
// ran it. Every other command is missing there, and bash's command_not_found_handle (set through
// BASH_ENV) makes a missing command succeed silently, so a script goes on past the commands it
// cannot run and reaches the places its values are used. (Commands named by an absolute path still
// run, on the overlay.) A value with `kbcanary` in it runs the canary only if a script executes
// the value's text instead of carrying it as data.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Script } from './render-all.js';
import { withTempDir } from './tmp.js';
import { missingTools } from './tools.js';

export const CANARY = 'kbcanary';

/** Why the canary sandbox cannot run here, or undefined. */
export function canarySandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (namespaces, overlayfs, chroot)';
  return missingTools('unshare', 'timeout');
}

const INNER = `set -eu
scratch=$1
t=$scratch/t
mkdir -p "$t" && mount -t tmpfs tmpfs "$t"
mkdir -p "$t/u" "$t/w" "$t/m"
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/u,workdir=$t/w" "$t/m"
mount -t proc proc "$t/m/proc"
mount --rbind /dev "$t/m/dev"
mount -t tmpfs tmpfs "$t/m/tmp"
mount -t tmpfs tmpfs "$t/m/run"
cp -a "$scratch/kb" "$t/m/kb"
chroot "$t/m" /bin/bash /kb/run-all.sh
cp "$t/m/kb/canary.log" "$scratch/canary.log"
`;

/** Runs each script (bash or sh, as it says) once; returns the names of those that ran the canary. */
export async function scriptsRunningCanary(scripts: readonly Script[]): Promise<string[]> {
  if (!scripts.length) return [];
  return withTempDir((dir) => {
    const kb = join(dir, 'kb');
    mkdirSync(join(kb, 'bin'), { recursive: true });
    mkdirSync(join(kb, 's'));
    writeFileSync(join(kb, 'bin', CANARY), '#!/bin/bash\nprintf \'%s\\n\' "$KB_SCRIPT" >> /kb/canary.log\n', { mode: 0o755 });
    writeFileSync(join(kb, 'env.sh'), 'command_not_found_handle() { return 0; }\n');
    scripts.forEach((s, i) => writeFileSync(join(kb, 's', `${i}.sh`), s.text));
    // dash has no command_not_found_handle: a missing command fails (127), and `set -e` may stop
    // it early; the canary still runs if a value is executed before that.
    const lines = scripts.map((s, i) => `cd /tmp && KB_SCRIPT=${i} timeout -k 1 5 /usr/bin/env -i PATH=/kb/bin BASH_ENV=/kb/env.sh KB_SCRIPT=${i} HOME=/root /bin/${s.shell === 'sh' ? 'sh' : 'bash'} /kb/s/${i}.sh vm-x net-x </dev/null >/dev/null 2>&1 || true`);
    writeFileSync(join(kb, 'run-all.sh'), `: > /kb/canary.log\n${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'canary.log'), '');
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', '--net', '--pid', '--fork', '--kill-child', 'bash', '-c', INNER, 'inner', dir], { encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`canary sandbox failed (${r.status}): ${r.stderr}`);
    const ran = [...new Set(readFileSync(join(dir, 'canary.log'), 'utf8').split('\n').filter(Boolean))];
    return ran.map((i) => scripts[Number(i)]!.name);
  });
}
