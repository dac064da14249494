// `kubebake validate` and `kubebake schema` as an operator runs them: exit codes, where the
// diagnostics go, help texts, and the JSON Schema an editor would use.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { WARNING_ONLY as WARNING_CASES } from '../helpers/bad-corpus.js';
import { fromRoot, ROOT } from '../helpers/paths.js';

interface Run { status: number | null; stdout: string; stderr: string }

/** Runs `node bin/kubebake.js …` from the repository root (paths in messages stay relative). */
const kubebake = (...args: string[]): Promise<Run> =>
  new Promise((resolve) => {
    execFile(process.execPath, ['bin/kubebake.js', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });

/** Runs many invocations, a few at a time (each is a node start-up). */
async function all<T>(items: readonly T[], fn: (item: T) => Promise<void>, width = 4): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: width }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

const STACK = /^\s+at /m;
const noStack = (r: Run, what: string): void => assert.doesNotMatch(r.stderr, STACK, `${what}: a stack trace on stderr:\n${r.stderr}`);
const show = (r: Run): string => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

const PROFILES = readdirSync(fromRoot('profiles')).filter((f) => f.endsWith('.yaml')).sort();
const BAD = readdirSync(fromRoot('test', 'bad')).filter((f) => f.endsWith('.yaml')).sort();
/** Valid but warning: exit 0, and 1 under --strict. */
const WARNING_ONLY = WARNING_CASES.map((name) => `${name}.yaml`);

test('validate exits 0 on every profile and says it is valid', async () => {
  await all(PROFILES, async (p) => {
    const r = await kubebake('validate', '-f', `profiles/${p}`);
    assert.equal(r.status, 0, `${p}: ${show(r)}`);
    assert.match(r.stdout, /valid cluster "[a-z0-9-]+" \(\d+ hosts\)/, p);
    noStack(r, p);
  });
});

test('validate exits 1 on every bad file, printing exactly its golden on stderr, with file:line:col', async () => {
  await all(BAD.filter((f) => !WARNING_ONLY.includes(f)), async (f) => {
    const file = `test/bad/${f}`;
    const r = await kubebake('validate', '-f', file);
    assert.equal(r.status, 1, `${f}: ${show(r)}`);
    assert.equal(r.stdout, '', `${f}: nothing on stdout`);
    assert.ok(r.stderr.includes(`--> ${file}:`), `${f}: no "--> ${file}:" in\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${file.replace(/\./g, '\\.')}:\\d+:\\d+`), f);
    assert.equal(r.stderr, readFileSync(fromRoot('test', 'bad', f.replace(/\.yaml$/, '.expected')), 'utf8'), `${f}: stderr differs from its golden`);
    noStack(r, f);
  });
});

test('a warnings-only file passes validate, and fails it with --strict', async () => {
  await all(WARNING_ONLY, async (f) => {
    const file = `test/bad/${f}`;
    const plain = await kubebake('validate', '-f', file);
    assert.equal(plain.status, 0, `${f}: ${show(plain)}`);
    assert.match(plain.stderr, /^warning\[/m);
    assert.equal(plain.stderr, readFileSync(fromRoot('test', 'bad', f.replace(/\.yaml$/, '.expected')), 'utf8'), `${f}: stderr differs from its golden`);
    const strict = await kubebake('validate', '-f', file, '--strict');
    assert.equal(strict.status, 1, `${f}: ${show(strict)}`);
    assert.match(strict.stderr, new RegExp(`${file.replace(/\./g, '\\.')}:\\d+:\\d+`));
    noStack(plain, f);
    noStack(strict, f);
  });
  // The profiles that warn by design (legacy OS, Weave) fail --strict too.
  for (const p of ['ubuntu-20-04.yaml', 'weave-legacy.yaml']) {
    const r = await kubebake('validate', '-f', `profiles/${p}`, '--strict');
    assert.equal(r.status, 1, `${p}: ${show(r)}`);
  }
  // Every profile carries kubebake's example SSH key, which is not a key: --strict fails on it.
  const example = await kubebake('validate', '-f', 'profiles/ubuntu-26-04-ha.yaml', '--strict');
  assert.equal(example.status, 1, show(example));
  assert.deepEqual([...example.stderr.matchAll(/^warning\[(.+?)\]:/gm)].map((m) => m[1]), ['access.sshAuthorizedKeys[0]']);
  const ha = await kubebake('validate', '-f', haWithKey(), '--strict');
  assert.equal(ha.status, 0, `the HA profile with a real key has nothing to warn about: ${show(ha)}`);
  assert.equal(ha.stderr, '');
});

/** The HA profile with a real public key in place of the example (its private half was thrown away). */
const haDir = mkdtempSync(join(tmpdir(), 'kubebake-ha-'));
after(() => rmSync(haDir, { recursive: true, force: true }));
function haWithKey(): string {
  const file = join(haDir, 'ha.yaml');
  writeFileSync(file, readFileSync(fromRoot('profiles', 'ubuntu-26-04-ha.yaml'), 'utf8').replace('AAAAC3NzaC1lZDI1NTE5AAAAIKubebakeExampleKeyReplaceMeWithYours0000', 'AAAAC3NzaC1lZDI1NTE5AAAAIEGcHMUvHXKQHL4NA1j0cWpsnLWRI9eTmD+Ccd3AgkBh'));
  return file;
}

test('a missing or unreadable file is a diagnostic and exit 1, not a crash', async () => {
  const missing = await kubebake('validate', '-f', 'test/bad/no-such-file.yaml');
  assert.equal(missing.status, 1, show(missing));
  assert.match(missing.stderr, /test\/bad\/no-such-file\.yaml/);
  assert.match(missing.stderr, /ENOENT/);
  noStack(missing, 'missing file');
  const dir = await kubebake('validate', '-f', 'test/bad');
  assert.equal(dir.status, 1, show(dir));
  noStack(dir, 'a directory');
});

test('usage errors exit 2: unknown option, missing -f, unknown command', async () => {
  const cases = [
    ['validate', '-f', 'profiles/default.yaml', '--no-such-option'],
    ['validate'],
    ['validate', '-f'],
    ['frobnicate'],
    ['--no-such-option'],
  ];
  await all(cases, async (args) => {
    const r = await kubebake(...args);
    assert.equal(r.status, 2, `kubebake ${args.join(' ')}: ${show(r)}`);
    assert.notEqual(r.stderr, '', `kubebake ${args.join(' ')} says what is wrong`);
    noStack(r, args.join(' '));
  });
});

test('--help of the program, validate and schema shows examples', async () => {
  await all([['--help'], ['validate', '--help'], ['schema', '--help'], ['help', 'validate']], async (args) => {
    const r = await kubebake(...args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${show(r)}`);
    assert.match(r.stdout, /^Examples:$/m, args.join(' '));
    assert.match(r.stdout, /\$ kubebake /, args.join(' '));
  });
});

test('schema prints a JSON Schema that ajv compiles; every profile validates against it, schema errors in the corpus fail it', async () => {
  const r = await kubebake('schema');
  assert.equal(r.status, 0, show(r));
  const schema = JSON.parse(r.stdout) as object;
  const ajv = new Ajv.default({ strict: false });
  const validate = ajv.compile(schema);
  for (const p of PROFILES) {
    const doc = parse(readFileSync(fromRoot('profiles', p), 'utf8'));
    assert.ok(validate(doc), `${p}: ${JSON.stringify(validate.errors, null, 1)}`);
  }
  // An editor using the schema flags what kubebake's schema step flags (same shapes).
  for (const f of ['bad-os.yaml', 'bad-role.yaml', 'bad-cni.yaml', 'bad-ip.yaml', 'bad-cidr.yaml', 'bad-mac.yaml', 'hostname-uppercase.yaml',
    'name-command-substitution.yaml', 'name-shell-injection.yaml', 'unknown-top-level-key.yaml', 'misspelled-nested-key.yaml', 'version-number.yaml',
    'port-string.yaml', 'hosts-mapping.yaml']) {
    assert.equal(validate(parse(readFileSync(fromRoot('test', 'bad', f), 'utf8'))), false, `${f} should fail the editor schema`);
  }
});

test('--json prints parseable JSON with positioned diagnostics, on stdout only', async () => {
  const bad = await kubebake('validate', '-f', 'test/bad/duplicate-ip.yaml', '--json');
  assert.equal(bad.status, 1, show(bad));
  assert.equal(bad.stderr, '');
  const out = JSON.parse(bad.stdout) as { valid: boolean; diagnostics: { severity: string; code: string; file: string; line: number; col: number; path: unknown[] }[] };
  assert.equal(out.valid, false);
  assert.ok(out.diagnostics.length > 0);
  const d = out.diagnostics[0]!;
  assert.deepEqual([d.severity, d.code, d.file, d.path], ['error', 'duplicate-ip', 'test/bad/duplicate-ip.yaml', ['hosts', 4, 'ip']]);
  assert.ok(d.line > 0 && d.col > 0);

  const good = await kubebake('validate', '-f', haWithKey(), '--json');
  assert.equal(good.status, 0, show(good));
  assert.deepEqual(JSON.parse(good.stdout), { valid: true, diagnostics: [] });

  const warned = await kubebake('validate', '-f', 'profiles/weave-legacy.yaml', '--json', '--strict');
  assert.equal(warned.status, 1, show(warned));
  const w = JSON.parse(warned.stdout) as { valid: boolean; diagnostics: { code: string }[] };
  assert.equal(w.valid, false);
  assert.deepEqual(w.diagnostics.map((x) => x.code), ['cni-weave-unmaintained', 'ssh-key-unreadable']);
});

test('a Node.js older than package.json\'s engines is refused at start, with exit 2 and what to install', async () => {
  const { MIN_NODE, unsupportedNode } = await import('../../src/cli/program.js');
  const engines = (JSON.parse(readFileSync(fromRoot('package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
  assert.equal(engines, `>=${MIN_NODE.replace(/\.0$/, '')}`, 'the CLI checks the version package.json promises');
  for (const v of ['v20.16.0', 'v20.20.2', 'v21.0.0', 'v22.11.0', 'v24.1.0']) assert.equal(unsupportedNode(v), undefined, v);
  for (const v of ['v20.15.1', 'v20.10.0', 'v18.20.4', 'v16.0.0']) assert.match(unsupportedNode(v) ?? '', new RegExp(`needs Node.js 20\\.16\\.0 or newer; this is ${v.replace(/\./g, '\\.')}`), v);
  // The whole CLI, its process.version set back before it starts.
  const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--import', 'data:text/javascript,Object.defineProperty(process,"version",{value:"v20.10.0"})', fromRoot('bin', 'kubebake.js'), 'validate', '-f', fromRoot('profiles', 'default.yaml')], (_e, _out, stderr) => resolve({ code: child.exitCode ?? -1, stderr }));
  });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'kubebake: needs Node.js 20.16.0 or newer; this is v20.10.0 (install a current Node.js LTS)\n');
});
