// The source folders depend on each other one way (topology → plan → config/steps → manifest →
// render → verify → output → app → cli): no folder imports one that imports it back. src/app holds
// the orchestrations the commands share (a render: lock → secrets → render → verify → write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoPath } from '../helpers/repo.js';

const SRC = repoPath('src');
const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
const folderOf = (file: string): string => relative(SRC, file).split('/')[0]!;

/** folder → folders it imports from (type-only imports count: they are a dependency too). */
function edges(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of files) {
    const path = join(SRC, f);
    const from = folderOf(path);
    for (const [, spec] of readFileSync(path, 'utf8').matchAll(/^(?:import|export)[^'";]*?from '(\.[^']+)'/gm)) {
      const to = folderOf(resolve(dirname(path), spec!));
      if (to !== from) (out.get(from) ?? out.set(from, new Set()).get(from)!).add(to);
    }
  }
  return out;
}

test('topology imports nothing from plan (the version and OS facts live in topology/facts)', () => {
  assert.ok(!edges().get('topology')?.has('plan'), 'src/topology imports src/plan');
});

test('no two source folders import each other, directly or through others', () => {
  const graph = edges();
  const cycles: string[] = [];
  const reach = (start: string): Set<string> => {
    const seen = new Set<string>();
    const todo = [...(graph.get(start) ?? [])];
    for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      todo.push(...(graph.get(next) ?? []));
    }
    return seen;
  };
  for (const folder of graph.keys()) if (reach(folder).has(folder)) cycles.push(folder);
  assert.deepEqual(cycles, []);
});
