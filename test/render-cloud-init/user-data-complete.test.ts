// A host's user-data is complete on its own: many places hand a machine nothing else (a UI's
// single user-data box, virt-install --cloud-init, EC2-style datasources, Ubuntu's installed
// system after autoinstall). Checked here on the rendered documents; test/e2e/delivery-paths.test.ts
// boots hosts given their user-data alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';
import { PROFILES, renderProfile, text } from '../helpers/cluster.js';

interface UserData { write_files: { path: string; content: string; permissions?: string }[]; runcmd: unknown[] }
const doc = (s: string): UserData => parse(s, { version: '1.1' }) as UserData;

// Paths as the runner and its unit are documented in the README ("What a host gets"), written
// here rather than taken from the code under test.
const RUNNER = '/usr/local/lib/kubebake/firstboot.sh';
const UNIT = '/etc/systemd/system/kubebake-firstboot.service';
const LIBRARY = '/usr/local/lib/kubebake/lib.sh';
const STEP_LIST = '/etc/kubebake/steps';

/** Functions a bash script defines, as bash itself reads them. */
function definedFunctions(script: string): string[] {
  const r = spawnSync('bash', ['-c', 'eval "$1" >/dev/null 2>&1; declare -F | cut -d" " -f3', '_', `${script}\nreturn 0 2>/dev/null; true`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

for (const name of PROFILES) {
  test(`profile ${name}: every host's user-data carries its runner, unit, steps and every helper they call; no vendor-data is written`, async () => {
    const { plan, tree } = await renderProfile(name);
    assert.deepEqual(tree.files().filter((f) => /vendor-data/.test(f.path)).map((f) => f.path), []);
    // Every helper any host's library defines: the names a step may call.
    const libraries = plan.nodes.map((n) => doc(text(tree, `hosts/${n.name}/user-data`)).write_files.find((f) => f.path === LIBRARY)?.content ?? '');
    const helpers = [...new Set(libraries.flatMap((l) => (l ? definedFunctions(l.replace(/^export .*$/gm, '')) : [])))];
    for (const n of plan.nodes) {
      const ud = doc(text(tree, `hosts/${n.name}/user-data`));
      const files = new Map(ud.write_files.map((f) => [f.path, f]));
      const steps = files.get(STEP_LIST)!.content.trim().split('\n');
      if (plan.image === 'baked') {
        // The image carries the runner: runcmd checks it is there before it starts it.
        assert.match(JSON.stringify(ud.runcmd), /kubebake-firstboot\.service/);
        continue;
      }
      assert.deepEqual(ud.runcmd, [['systemctl', 'enable', '--now', 'kubebake-firstboot.service']], n.name);
      assert.equal(files.get(RUNNER)?.permissions, '0755', `${n.name}: the runner`);
      assert.match(files.get(UNIT)?.content ?? '', new RegExp(`ExecStart=${RUNNER}`), `${n.name}: its unit`);
      const library = files.get(LIBRARY)!.content;
      const own = definedFunctions(library.replace(/^export .*$/gm, ''));
      for (const step of steps) {
        const script = files.get(`/usr/local/lib/kubebake/${step}.sh`)?.content;
        assert.ok(script, `${n.name}: ${step}.sh`);
        for (const h of helpers) {
          if (new RegExp(`(^|[\\s;(|&!])${h}(\\s|$)`, 'm').test(script)) assert.ok(own.includes(h), `${n.name}: ${step}.sh calls ${h}, which its lib.sh does not define`);
        }
      }
    }
  });
}

test("meta-data's instance-id covers the user-data and network-config (new content is a new instance)", async () => {
  const { plan, tree } = await renderProfile('default');
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  for (const n of plan.nodes) {
    const f = (name: string): string => text(tree, `hosts/${n.name}/${name}`);
    const expected = sha(`${f('user-data')}\0${f('network-config')}`).slice(0, 12);
    assert.equal((parse(f('meta-data')) as Record<string, string>)['instance-id'], `${n.name}-${expected}`);
  }
});
