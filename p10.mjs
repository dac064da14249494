import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { openSync, closeSync, fstatSync, mkdirSync, constants, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { bigTopology } from './dist/bench/cluster.js';
import { loadTopology } from './dist/src/topology/load.js';
import { buildPlan, withSecrets } from './dist/src/plan/plan.js';
import { loadOrCreateSecrets } from './dist/src/plan/secrets.js';
import { renderCloudInitTree } from './dist/src/render/cloud-init/cluster.js';
import { mapLimit } from './dist/src/util/map-limit.js';
const base = process.argv[2];
const work = await mkdtemp(join(base, 'kb-'));
const l = loadTopology(bigTopology(5000), 'b.yaml');
const s = await loadOrCreateSecrets(join(work, 'secrets'));
const files = renderCloudInitTree(withSecrets(buildPlan(l.topology), s.secrets)).files();
for (let r = 0; r < 2; r++) {
  let raw = join(work, 'raw' + r); let t = performance.now();
  for (const d of new Set(files.map((f) => dirname(join(raw, f.path))))) await mkdir(d, { recursive: true });
  await mapLimit(files, 16, (f) => writeFile(join(raw, f.path), f.content, { mode: f.mode }));
  console.log('raw async', (performance.now() - t).toFixed(0));
  raw = join(work, 'sync' + r); t = performance.now();
  for (const d of new Set(files.map((f) => dirname(join(raw, f.path))))) mkdirSync(d, { recursive: true });
  for (const f of files) { const fd = openSync(join(raw, f.path), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, f.mode); writeFileSync(fd, f.content); fstatSync(fd); closeSync(fd); }
  console.log('sync + fstat', (performance.now() - t).toFixed(0));
}
