// vendor-data meets user-data the way cloud-init 22.4 merges them, run with cloud-init's own code
// (test/helpers/cloud_init_merge.py): the part handler, then ConfigMerger. Shows why kubebake's
// vendor-data carries merge_type next to merge_how (render/cloud-init/vendor-data.ts), and that
// the host's own files follow the runtime's (the same path: the host's wins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { renderProfile, text } from '../helpers/cluster.js';
import { repoPath } from '../helpers/repo.js';

// cloud-init's Python package is installed for the system python3 (not a pyenv one).
const PYTHON = '/usr/bin/python3';
const skip = existsSync('/usr/lib/python3/dist-packages/cloudinit') ? false : 'needs cloud-init (python3 cloudinit package)';

function merged(userData: string, vendorData: string): { write_files?: { path: string; content: string }[]; runcmd?: unknown; merge_how?: unknown; merge_type?: unknown } {
  const dir = mkdtempSync(join(tmpdir(), 'kubebake-merge-'));
  try {
    writeFileSync(join(dir, 'user-data'), userData);
    writeFileSync(join(dir, 'vendor-data'), vendorData);
    const r = spawnSync(PYTHON, [repoPath('test', 'helpers', 'cloud_init_merge.py'), join(dir, 'user-data'), join(dir, 'vendor-data')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const paths = (cfg: { write_files?: { path: string }[] }): string[] => (cfg.write_files ?? []).map((f) => f.path);

test("cloud-init's merge: our vendor-data's files come first, then every file of the user-data; the user-data's other keys stay", { skip }, async () => {
  const { tree } = await renderProfile('default');
  for (const host of ['worker1', 'cp1', 'lb1']) {
    const userData = text(tree, `hosts/${host}/user-data`);
    const vendorData = text(tree, `hosts/${host}/vendor-data`);
    const user = parse(userData, { version: '1.1' });
    const vendor = parse(vendorData, { version: '1.1' });
    const cfg = merged(userData, vendorData);
    assert.deepEqual(paths(cfg), [...paths(vendor), ...paths(user)], host);
    assert.deepEqual(cfg.runcmd, user.runcmd, host);
    // A file both write (a control plane's bootstrap.sh): written twice, the host's last.
    const last = new Map((cfg.write_files ?? []).map((f) => [f.path, f.content]));
    for (const f of user.write_files as { path: string; content: string }[]) assert.equal(last.get(f.path), f.content, `${host}: ${f.path}`);
  }
});

test("cloud-init's merge drops a vendor-data's write_files without merge keys, and with merge_how alone", { skip }, async () => {
  const { tree } = await renderProfile('default');
  const userData = text(tree, 'hosts/worker1/user-data');
  const vendorData = text(tree, 'hosts/worker1/vendor-data');
  const user = parse(userData, { version: '1.1' });
  const none = vendorData.replace(/^merge_(how|type): .*\n/gm, '');
  const howOnly = vendorData.replace(/^merge_type: .*\n/m, '');
  assert.ok(none.length < howOnly.length && howOnly.length < vendorData.length);
  for (const v of [none, howOnly]) assert.deepEqual(paths(merged(userData, v)), paths(user));
});
