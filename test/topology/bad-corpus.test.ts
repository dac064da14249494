// The bad-input corpus: every test/bad/<name>.yaml is a realistic wrong topology, and
// test/bad/<name>.expected is exactly what the operator sees for it (formatDiagnostics).
// UPDATE_GOLDEN=1 npm test rewrites the .expected files (not under CI:
// test/helpers/golden.ts); read every changed one before committing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { formatDiagnostics } from '../../src/diagnostics/print.js';
import { loadTopology } from '../../src/topology/load.js';
import { resolveKeyFiles } from '../../src/topology/key-files.js';
import { WARNING_ONLY as WARNING_CASES } from '../helpers/bad-corpus.js';
import { updatingGoldens } from '../helpers/golden.js';
import { fromRoot } from '../helpers/paths.js';

const BAD = fromRoot('test', 'bad');
const files = readdirSync(BAD);
const cases = files.filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
const WARNING_ONLY = new Set(WARNING_CASES);

test('the corpus has at least 30 cases, and every .expected has its .yaml', () => {
  assert.ok(cases.length >= 30, `only ${cases.length} cases`);
  for (const f of files.filter((f) => f.endsWith('.expected'))) {
    assert.ok(cases.includes(f.slice(0, -'.expected'.length)), `${f} has no .yaml: remove it`);
  }
  for (const name of WARNING_ONLY) assert.ok(cases.includes(name), name);
});

for (const name of cases) {
  test(`bad/${name}.yaml prints exactly bad/${name}.expected`, async () => {
    const source = readFileSync(fromRoot('test', 'bad', `${name}.yaml`), 'utf8');
    // What readTopology does after reading the file: load, then read and check the signing keys.
    const result = await resolveKeyFiles(loadTopology(source, `test/bad/${name}.yaml`), BAD);
    const printed = formatDiagnostics(result.diagnostics, source);
    const golden = fromRoot('test', 'bad', `${name}.expected`);
    if (updatingGoldens()) writeFileSync(golden, printed);
    assert.ok(existsSync(golden), `no golden: run UPDATE_GOLDEN=1 npm test and read test/bad/${name}.expected`);
    assert.equal(printed, readFileSync(golden, 'utf8'));

    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (WARNING_ONLY.has(name)) {
      // Valid, so it loads, but --strict (any diagnostic fails) must reject it.
      assert.equal(errors.length, 0);
      assert.ok(result.topology, 'a warnings-only topology still loads');
      assert.ok(result.diagnostics.length > 0, '--strict would pass it');
    } else {
      assert.ok(errors.length > 0, 'expected at least one error');
      assert.equal(result.topology, undefined, 'no topology when there are errors');
    }
    for (const d of result.diagnostics) {
      assert.equal(d.file, `test/bad/${name}.yaml`);
      assert.ok(Number.isInteger(d.line) && d.line! >= 1, `${d.code}: line ${d.line}`);
      assert.ok(Number.isInteger(d.col) && d.col! >= 1, `${d.code}: col ${d.col}`);
      assert.ok(d.hint === undefined || d.hint.length > 0, `${d.code}: empty hint`);
    }
  });
}
