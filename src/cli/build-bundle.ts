// Build step (`npm run build`, after tsc and build-validator): bundles the CLI that
// bin/kubebake.js runs into dist/cli/. Node resolves and compiles every module file on its own;
// loading `yaml` (74 CommonJS files) and commander file by file was most of what a
// `kubebake validate` spent above node's own start. The bundle holds our code, `yaml` and
// commander, in one entry file and one chunk per lazily imported command; every other
// dependency (PKI, OpenPGP, ajv, tar) stays in node_modules and loads only when a command needs it.
// Tests that import modules use tsc's output (dist/src); the CLI tests run the bundle.
// dist/cli/meta.json (esbuild's metafile) tells which modules each chunk holds: the start test reads it.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';

const root = new URL('../../../', import.meta.url);
/** Packages bundled: the ones every start loads. */
const BUNDLED = new Set(['yaml', 'commander']);
const { dependencies } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { dependencies: Record<string, string> };
const outdir = new URL('dist/cli/', root).pathname;

/**
 * commander requires `node:child_process` when it loads, for executable subcommands (a
 * `git-foo` beside `git`), which kubebake has none of. Loading it pulls in net, dgram and every
 * stream module: 10 ms of each start. Inside commander it is a proxy that requires it on first use.
 */
const lazyChildProcess: Plugin = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('/node_modules/commander/') ? { path: 'child_process', namespace: 'lazy-builtin' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: [new URL('dist/src/cli/main.js', root).pathname],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  external: Object.keys(dependencies).filter((d) => !BUNDLED.has(d)),
  // yaml and commander are CommonJS: their require('events') needs a require in an ES module.
  banner: { js: "import { createRequire as __kubebakeRequire } from 'node:module';\nconst require = __kubebakeRequire(import.meta.url);" },
  plugins: [lazyChildProcess],
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(`${outdir}meta.json`, JSON.stringify(result.metafile));
