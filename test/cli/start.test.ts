// What `kubebake validate` loads at start: the topology schema's validator as the build generated
// it (no ajv compile), and none of the heavy modules (PKI, OpenPGP, Packer, delivery forms; the
// list of form names, forms.ts, is the help text's and has no imports).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { topologySchema } from '../../src/topology/schema.js';
import { topologyAjv, validateTopologySchema, validatorSource } from '../../src/topology/schema-validator.js';
import { REPO, repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';

test('the build generated the topology validator from the current schema (else run `npm run build`)', () => {
  assert.equal(validatorSource, 'generated', 'dist/src/topology/schema-validator.generated.cjs is missing or was made from another schema.ts: run `npm run build`');
});

test('the generated validator reports what ajv compiling the schema reports, on every profile and bad topology', () => {
  const compiled = topologyAjv().compile(topologySchema);
  const brief = (errors: typeof compiled.errors): unknown =>
    (errors ?? []).map(({ instancePath, keyword, params, message }) => ({ instancePath, keyword, params, message }));
  const inputs = [
    ...readdirSync(repoPath('profiles')).map((f) => repoPath('profiles', f)),
    ...readdirSync(repoPath('test', 'bad')).filter((f) => f.endsWith('.yaml')).map((f) => repoPath('test', 'bad', f)),
  ];
  let checked = 0;
  for (const file of inputs) {
    let value: unknown;
    try {
      value = parse(readFileSync(file, 'utf8'), { maxAliasCount: 200 });
    } catch {
      continue; // not YAML at all: never reaches the schema
    }
    const [a, b] = [structuredClone(value), structuredClone(value)]; // useDefaults fills in defaults
    assert.equal(validateTopologySchema(a), compiled(b), file);
    assert.deepEqual(brief(validateTopologySchema.errors), brief(compiled.errors), file);
    assert.deepEqual(a, b, `${file}: defaults applied alike`);
    checked++;
  }
  assert.ok(checked > 60, `checked ${checked} topologies`);
});

/** dist/cli/meta.json: esbuild's record of which modules each file of the CLI bundle holds. */
interface BundleMeta { inputs: Record<string, unknown>; outputs: Record<string, { inputs: Record<string, unknown> }> }
const bundleMeta = (): BundleMeta => JSON.parse(readFileSync(repoPath('dist', 'cli', 'meta.json'), 'utf8')) as BundleMeta;

test('bin/kubebake.js runs the CLI bundle, built after every module it holds (else run `npm run build`)', () => {
  assert.match(readFileSync(repoPath('bin', 'kubebake.js'), 'utf8'), /^import '\.\.\/dist\/cli\/main\.js';$/m);
  const built = statSync(repoPath('dist', 'cli', 'meta.json')).mtimeMs;
  const ours = Object.keys(bundleMeta().inputs).filter((i) => i.startsWith('dist/src/'));
  assert.ok(ours.some((i) => i === 'dist/src/topology/load.js') && ours.length > 50, `the bundle holds kubebake's modules (${ours.length})`);
  const newer = ours.filter((i) => statSync(repoPath(i)).mtimeMs > built);
  assert.deepEqual(newer, [], 'tsc rebuilt these after the bundle: the CLI would run stale code');
});

test('validate loads no PKI, OpenPGP, Packer, delivery or x509 module, not ajv\'s compiler, and neither node:crypto nor node:child_process', () => withTempDir((dir) => {
  const log = join(dir, 'loaded');
  writeFileSync(join(dir, 'hook.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function load(url, ctx, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, ctx); }\n`);
  const child = `
import { createRequire, register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hook.mjs')).href)});
process.argv = [process.argv[0], 'kubebake', 'validate', '-f', ${JSON.stringify(repoPath('profiles', 'default.yaml'))}];
await import(${JSON.stringify(pathToFileURL(repoPath('bin', 'kubebake.js')).href)});
process.stdout.write(Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n' + process.moduleLoadList.join('\\n'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', child], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // A file of the bundle stands for the modules esbuild put into it.
  const outputs = bundleMeta().outputs;
  const files = [...readFileSync(log, 'utf8').split('\n'), ...r.stdout.split('\n')].filter(Boolean);
  const loaded = files.flatMap((u) => {
    const out = u.startsWith('file:') ? relative(REPO, fileURLToPath(u)) : '';
    return outputs[out] ? [u, ...Object.keys(outputs[out].inputs)] : [u];
  });
  assert.ok(files.some((u) => u.includes('/dist/cli/')) && loaded.some((u) => u.endsWith('topology/load.js')), 'the hook saw the bundle load the topology');
  const heavy = loaded.filter((u) => /plan\/pki|secrets|x509|openpgp|sshpk|packer\/(release|run)|render\/(delivery\/(?!forms\.)|packer)|tar-stream|yauzl|ajv\/dist\/(ajv|core|compile)/.test(u));
  assert.deepEqual(heavy, []);
  // Node's own modules: child_process (commander's executable subcommands) and crypto (MACs for
  // hosts that name none) cost 15 ms of a start and load on first use only.
  assert.ok(files.includes('NativeModule fs'), 'the child listed the builtins it loaded');
  assert.deepEqual(files.filter((f) => /^NativeModule (child_process|crypto)$/.test(f)), []);
}));
