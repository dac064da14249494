// The source folders depend on each other one way (topology → plan → config/steps → manifest →
// render → verify → output → app → cli): no folder imports one that imports it back. src/app holds
// the orchestrations the commands share (a render: lock → secrets → render → verify → write).
// Within and across folders, no file imports by value a file that imports it back (a module cycle
// makes what a module sees of the other depend on which one loads first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
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

/**
 * file → the files it imports by value (src/ files, relative to src/). `import type`, `export type`
 * and imports whose every name is marked `type` are left out: TypeScript erases them, so they
 * never run. Dynamic `import()` is left out too: it runs after every module has loaded.
 */
function valueImports(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of files) {
    const path = join(SRC, f);
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const to: string[] = [];
    for (const s of source.statements) {
      let spec: ts.Expression | undefined;
      if (ts.isImportDeclaration(s)) {
        const clause = s.importClause;
        const named = clause?.namedBindings;
        const allTypes = named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly) && clause?.name === undefined;
        if (!clause?.isTypeOnly && !allTypes) spec = s.moduleSpecifier;
      } else if (ts.isExportDeclaration(s) && s.moduleSpecifier) {
        const named = s.exportClause;
        const allTypes = named !== undefined && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
        if (!s.isTypeOnly && !allTypes) spec = s.moduleSpecifier;
      }
      if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) {
        to.push(relative(SRC, resolve(dirname(path), spec.text)).replace(/\.js$/, '.ts'));
      }
    }
    out.set(f, to);
  }
  return out;
}

/** Every set of files that import each other by value (Tarjan's strongly connected components), each as one cycle through it. */
function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = new Set<string>();
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.add(w);
      if (w === v) break;
    }
    if (component.size > 1 || graph.get(v)?.includes(v)) cycles.push(cycleThrough(v, component, graph));
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A path from start back to start inside component (breadth-first: the shortest). */
function cycleThrough(start: string, component: Set<string>, graph: Map<string, string[]>): string[] {
  const from = new Map<string, string>();
  const todo = [start];
  for (let i = 0; i < todo.length; i++) {
    for (const w of graph.get(todo[i]!) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [todo[i]!];
        while (path[0] !== start) path.unshift(from.get(path[0]!)!);
        return [...path, start];
      }
      if (!from.has(w)) {
        from.set(w, todo[i]!);
        todo.push(w);
      }
    }
  }
  return [start];
}

test('no source files import each other by value, directly or through others', () => {
  const graph = valueImports();
  for (const [file, to] of graph) for (const t of to) assert.ok(graph.has(t), `${file} imports ${t}, which is not a source file`);
  assert.deepEqual(importCycles(graph).map((c) => c.join(' → ')), []);
});

test('the cycle finder names a cycle', () => {
  const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts', 'd.ts']], ['d.ts', []], ['e.ts', ['e.ts']]]);
  assert.deepEqual(importCycles(graph).map((c) => c.join(' → ')), ['a.ts → b.ts → c.ts → a.ts', 'e.ts → e.ts']);
});
