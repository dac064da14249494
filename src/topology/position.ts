// Where a diagnostic about a topology field points in the topology's source: the node of its
// field path (loading positions its own diagnostics with it; later checks, positionDiagnostics).
import { isCollection, isMap, isScalar, LineCounter, parseDocument, type Document, type Node, type Pair } from 'yaml';
import type { Diagnostic, FieldPath } from '../diagnostics/diagnostic.js';

type Locate = (path: FieldPath, keyOf?: string) => { line: number; col: number; length: number };

/** Maps a field path to the source span of its node (or, for an unknown key, of the key). */
export function locator(doc: Document.Parsed, at: (offset: number | undefined) => { line: number; col: number }): Locate {
  return (path, keyOf) => {
    // An unknown key is shown at the key itself, not at its value.
    const unknownKey = keyOf !== undefined ? keyNode(doc, path) : undefined;
    // Walk down as far as the path exists: a missing field points at its parent.
    let depth = path.length;
    let node: unknown = unknownKey;
    for (; node === undefined && depth >= 0; depth--) {
      node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      if (node !== undefined) break;
    }
    if (unknownKey === undefined && depth < path.length && isMap(node)) {
      // Missing field: point at the parent's key if there is one, else at the map itself.
      node = keyNode(doc, path.slice(0, depth)) ?? node;
    } else if (unknownKey === undefined && depth === path.length && isCollection(node)) {
      // A problem with a whole mapping or list (apiEndpoint, hosts): point at its key, not at
      // its first entry, which would look like the culprit.
      node = keyNode(doc, path) ?? node;
    }
    const range = (node as Node | undefined)?.range;
    const start = at(range?.[0]);
    return { ...start, length: range ? Math.max(1, range[1] - range[0]) : 1 };
  };
}

function keyNode(doc: Document.Parsed, path: FieldPath): Node | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const last = String(path[path.length - 1]);
  const pair = (parent.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === last);
  return (pair?.key as Node | undefined) ?? undefined;
}

/**
 * Positions diagnostics found after loading (e.g. in generated output, traced back to the
 * topology fields it came from) in the topology's source. Parses the source again: only done
 * when there is something to report.
 */
export function positionDiagnostics(source: string, file: string, diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined): { line: number; col: number } =>
    offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(Math.min(offset, source.length));
  const locate = locator(doc, at);
  return diagnostics.map((d) => ({ ...d, file, ...locate(d.path) }));
}
