// Packer runs every provisioning script through the template's execute_command, as the build
// user through sudo. Ubuntu 26.04's `sudo` is sudo-rs, which ignores `sudo -E` (chef/bento pull
// requests 1689 and 1691: "sudo: preserving the entire environment is not supported, '-E' is
// ignored", so scripts lost Packer's variables). Here the rendered command of every builder and
// OS — parsed out of image.pkr.hcl by HashiCorp's HCL parser — is filled in as Packer fills it
// (test/helpers/packer-shell.ts) and run under a sudo that resets the environment as sudo-rs does,
// and under the real sudo of this machine (env_reset, Debian's default sudoers); each time the
// script must see exactly the variables Packer passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { buildPlan } from '../../src/plan/plan.js';
import { renderPackerTree } from '../../src/render/packer/tree.js';
import { held } from '../../src/output/tree.js';
import { BUILDERS, OS_PROFILES } from '../../src/topology/schema.js';
import { repoPath, topologyFrom } from '../helpers/repo.js';
import { missingTools, tempFiles } from '../helpers/tools.js';
import { renderExecuteCommand, SUDO_RS_STANDIN } from '../helpers/packer-shell.js';

const DEFAULT_PROFILE = readFileSync(repoPath('profiles', 'default.yaml'), 'utf8');

/** Every distinct execute_command of every image template, for every builder and OS. */
async function executeCommands(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const builder of BUILDERS) {
    for (const os of OS_PROFILES) {
      // Ubuntu 20.04 boots with cgroup v1: Kubernetes 1.34 is the newest minor it can run.
      let text = DEFAULT_PROFILE.replace(/^os: .*$/m, `os: ${os}`) + `\npacker:\n  builder: ${builder}\n`;
      if (os === 'ubuntu-20.04') text = text.replace(/version: "1\.37\.2"/, 'version: "1.34.7"');
      const tree = renderPackerTree(buildPlan(topologyFrom(text)));
      for (const f of tree.files().filter((f) => f.path.endsWith('/image.pkr.hcl'))) {
        const content = held(f);
        const json = (await parse(f.path, typeof content === 'string' ? content : Buffer.from(content).toString('utf8'))) as Record<string, any>;
        const shells = json.build[0].provisioner.shell as { execute_command: string }[];
        assert.ok(shells.length > 0, f.path);
        for (const s of shells) found.set(s.execute_command, [...(found.get(s.execute_command) ?? []), `${builder}/${os}/${f.path}`]);
      }
    }
  }
  return found;
}

/** What Packer passes: its own two variables, and a value a shell would split or unquote. */
const PACKER_VARS = { PACKER_BUILD_NAME: 'node-debian-13', PACKER_BUILDER_TYPE: 'qemu', KUBEBAKE_PROBE: "it's one word, with spaces" };

/** The provisioning script: records the environment it got, NUL-separated. */
const script = (out: string): string => `#!/bin/bash\nset -eu\nenv -0 > ${out}\n`;

/** Runs the filled-in command through sh -c (the SSH user's shell), with `sudo` found first in `pathDir` if given. */
function runAs(command: string, dir: string, pathDir?: string): { status: number | null; stderr: string; env: Map<string, string> } {
  const env = {
    PATH: `${pathDir ? `${pathDir}:` : ''}/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: '/root',
    // In the SSH session's environment, not in Packer's variables: must not reach the script.
    KUBEBAKE_SESSION_ONLY: 'leaked',
  };
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8', env });
  let got = new Map<string, string>();
  try {
    got = new Map(
      readFileSync(join(dir, 'env.out'), 'utf8')
        .split('\0')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
    );
  } catch {
    // no output: the script did not run
  }
  return { status: r.status, stderr: r.stderr, env: got };
}

function assertSeesPackerVars(r: ReturnType<typeof runAs>, where: string): void {
  assert.equal(r.status, 0, `${where}: ${r.stderr}`);
  for (const [k, v] of Object.entries(PACKER_VARS)) assert.equal(r.env.get(k), v, `${where}: the script sees ${k}\n${r.stderr}`);
  assert.equal(r.env.get('KUBEBAKE_SESSION_ONLY'), undefined, `${where}: sudo resets the environment`);
}

const commands = await executeCommands();

test('every template\'s execute_command renders with Packer\'s fields only, one command for every builder and OS', () => {
  assert.equal(commands.size, 1, [...commands.keys()].join('\n'));
  for (const c of commands.keys()) renderExecuteCommand(c, { vars: PACKER_VARS, path: '/tmp/script_1.sh' });
});

test('the stand-in sudo drops the environment as sudo-rs does: -E is ignored with its warning, --preserve-env=LIST keeps LIST', () => {
  const { dir, cleanup } = tempFiles({ 'bin/sudo': SUDO_RS_STANDIN, 's.sh': script('/dev/null') });
  try {
    spawnSync('chmod', ['0755', join(dir, 'bin/sudo')]);
    const env = { PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, HOME: '/root', A: 'a', B: 'b' };
    const e = spawnSync('sh', ['-c', 'sudo -n -E env'], { encoding: 'utf8', env });
    assert.equal(e.status, 0);
    assert.equal(e.stderr, "sudo: preserving the entire environment is not supported, '-E' is ignored\n");
    assert.doesNotMatch(e.stdout, /^A=/m);
    const kept = spawnSync('sh', ['-c', 'sudo --preserve-env=A env'], { encoding: 'utf8', env });
    assert.match(kept.stdout, /^A=a$/m);
    assert.doesNotMatch(kept.stdout, /^B=/m);
    assert.match(spawnSync('sh', ['-c', 'sudo -n C=c env'], { encoding: 'utf8', env }).stdout, /^C=c$/m);
    assert.equal(spawnSync('sh', ['-c', 'sudo -Z env'], { encoding: 'utf8', env }).status, 1);
  } finally {
    cleanup();
  }
});

for (const command of commands.keys()) {
  test(`under a sudo that ignores -E (sudo-rs), the script sees Packer's variables: ${command}`, () => {
    const { dir, cleanup } = tempFiles({ 'bin/sudo': SUDO_RS_STANDIN });
    try {
      spawnSync('chmod', ['0755', join(dir, 'bin/sudo')]);
      const path = join(dir, 'script_4711.sh');
      spawnSync('sh', ['-c', `cat > ${path} && chmod 0755 ${path}`], { input: script(join(dir, 'env.out')) });
      const r = runAs(renderExecuteCommand(command, { vars: PACKER_VARS, path }), dir, join(dir, 'bin'));
      assertSeesPackerVars(r, 'sudo-rs stand-in');
    } finally {
      cleanup();
    }
  });

  const why = process.getuid?.() !== 0 ? 'needs root (runs the real sudo without a password)' : missingTools('sudo');
  test(`under the real sudo (env_reset), the script sees Packer's variables: ${command}`, { skip: why }, () => {
    const { dir, cleanup } = tempFiles({});
    try {
      const path = join(dir, 'script_4711.sh');
      spawnSync('sh', ['-c', `cat > ${path} && chmod 0755 ${path}`], { input: script(join(dir, 'env.out')) });
      const r = runAs(renderExecuteCommand(command, { vars: PACKER_VARS, path }), dir);
      assertSeesPackerVars(r, 'sudo');
      assert.equal(r.env.get('SUDO_USER'), 'root', 'it ran through sudo');
    } finally {
      cleanup();
    }
  });
}
