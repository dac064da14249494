// Goldens: the default and seed profiles' full output trees, as real files a reviewer can open,
// rendered with the committed test-only secrets. UPDATE_GOLDEN=1 npm test rewrites them
// (not under CI: test/helpers/golden.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderProfile } from '../helpers/cluster.js';
import { updatingGoldens } from '../helpers/golden.js';
import { repoPath } from '../helpers/repo.js';
import { listFiles } from '../helpers/tmp.js';
import { held } from '../../src/output/tree.js';


for (const name of ['default', 'seed']) {
  test(`golden: profile ${name} renders exactly test/golden/${name}/`, async () => {
    const { tree } = await renderProfile(name);
    const dir = repoPath('test', 'golden', name);
    if (updatingGoldens()) {
      rmSync(dir, { recursive: true, force: true });
      for (const f of tree.files()) {
        mkdirSync(dirname(join(dir, f.path)), { recursive: true });
        writeFileSync(join(dir, f.path), held(f));
      }
    }
    assert.deepEqual(listFiles(dir), tree.files().map((f) => f.path), 'the set of files');
    for (const f of tree.files()) {
      assert.equal(Buffer.from(held(f)).toString('utf8'), readFileSync(join(dir, f.path), 'utf8'), `${f.path} differs from its golden`);
    }
  });
}
