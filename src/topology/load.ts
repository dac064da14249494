import { readFile, stat } from 'node:fs/promises';
import type { ErrorObject } from 'ajv';
import { Composer, isMap, isScalar, LineCounter, Parser, visit, YAMLParseError, type CST, type Document } from 'yaml';
import { didYouMean, hasErrors, type Diagnostic, type FieldPath } from '../diagnostics/diagnostic.js';
import { msg } from '../diagnostics/messages.js';
import { validateTopologySchema as validateSchema } from './schema-validator.js';
import { checkRules } from './rules.js';
import { resolveKeyFiles } from './key-files.js';
import { locator } from './position.js';
import { dirname } from 'node:path';
import type { Topology } from './types.js';

/** Topology files are hand-written and small; anything larger is a mistake or an attack. */
export const MAX_TOPOLOGY_BYTES = 1024 * 1024;
/** Aliases are handy for repeated labels, but a few hundred would already be unusual. */
const MAX_ALIAS_COUNT = 200;
/**
 * A topology nests 5 levels (hosts[].taints[].key). The YAML composer recurses per level and
 * overflows the stack near 800; overflowing it repeatedly in one process can abort V8 (a fatal
 * "RegExpCompiler Allocation failed"), so deeper input is refused before composing.
 */
const MAX_NESTING = 64;

export interface LoadResult {
  file: string;
  source: string;
  /** Present only when there are no errors. */
  topology?: Topology;
  diagnostics: Diagnostic[];
}

/** `-f -`: the topology comes from standard input, named so in messages. */
export const STDIN_NAME = '<stdin>';

/**
 * Reads a topology file (or standard input for "-"). The only I/O in this module; a missing,
 * unreadable, oversized or non-UTF-8 file is a diagnostic too.
 */
export async function readTopology(file: string, stdin?: AsyncIterable<Buffer | string>): Promise<LoadResult> {
  const name = file === '-' ? STDIN_NAME : file;
  const fail = (d: Omit<Diagnostic, 'severity' | 'path' | 'file'>): LoadResult => ({
    file: name,
    source: '',
    diagnostics: [{ severity: 'error', path: [], file: name, ...d }],
  });
  let bytes: Buffer;
  try {
    if (file === '-') {
      const chunks: Buffer[] = [];
      let size = 0;
      // process.stdin is created on first use (a stream and its handle): only for "-".
      for await (const chunk of stdin ?? process.stdin) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += b.length;
        if (size > MAX_TOPOLOGY_BYTES) return fail(msg.tooLarge(size, MAX_TOPOLOGY_BYTES));
        chunks.push(b);
      }
      bytes = Buffer.concat(chunks);
    } else {
      const info = await stat(file);
      if (!info.isFile()) return fail(msg.notAFile());
      if (info.size > MAX_TOPOLOGY_BYTES) return fail(msg.tooLarge(info.size, MAX_TOPOLOGY_BYTES));
      bytes = await readFile(file);
    }
  } catch (e) {
    return fail(msg.unreadable((e as NodeJS.ErrnoException).code ?? String(e)));
  }
  const text = decodeUtf8(bytes);
  if (typeof text !== 'string') return fail(msg.notUtf8(text.offset, text.utf16));
  return resolveKeyFiles(loadTopology(text, name), file === '-' ? '.' : dirname(file));
}

/** UTF-8 text (a leading BOM dropped), or where it stops being UTF-8. */
function decodeUtf8(bytes: Buffer): string | { offset: number; utf16: boolean } {
  const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    // Find the first offending byte for the message: the longest prefix that decodes.
    let lo = 0;
    let hi = bytes.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        lo = mid;
      } catch {
        hi = mid - 1;
      }
    }
    // In streaming mode an unfinished sequence passes: the culprit is where that sequence began.
    let offset = lo;
    for (let k = 1; k <= 3 && lo - k >= 0; k++) {
      const b = bytes[lo - k]!;
      if (b >= 0xc0) offset = lo - k;
      if (b < 0x80 || b >= 0xc0) break;
    }
    return { offset, utf16 };
  }
}

/** Text → Topology or positioned diagnostics. Pure; never throws. */
export function loadTopology(source: string, file: string): LoadResult {
  const result: LoadResult = { file, source, diagnostics: [] };
  if (source.length > MAX_TOPOLOGY_BYTES) {
    result.diagnostics.push({ severity: 'error', path: [], file, ...msg.tooLarge(source.length, MAX_TOPOLOGY_BYTES) });
    return result;
  }
  // One parse: the token tree is checked for depth, then composed into the document.
  const lineCounter = new LineCounter();
  let doc: Document.Parsed;
  let value: unknown;
  try {
    const tokens = [...new Parser(lineCounter.addNewLine).parse(source)];
    const deep = tooDeep(tokens, MAX_NESTING);
    if (deep !== undefined) {
      const before = source.slice(0, deep);
      const where = { line: before.split('\n').length, col: deep - before.lastIndexOf('\n') };
      result.diagnostics.push({ severity: 'error', path: [], file, ...where, ...msg.yamlUnparsable(`it nests deeper than ${MAX_NESTING} levels`) });
      return result;
    }
    doc = composeOne(tokens, source.length);
  } catch (e) {
    // The parser recurses on nesting; a pathological document can exhaust the stack.
    result.diagnostics.push({ severity: 'error', path: [], file, line: 1, col: 1, ...msg.yamlUnparsable(String((e as Error).message ?? e)) });
    return result;
  }
  const at = (offset: number | undefined): { line: number; col: number } =>
    offset === undefined ? { line: 1, col: 1 } : lineCounter.linePos(Math.min(offset, source.length));
  // Errors after the first are mostly its consequences (one tab indent yields four more, about
  // implicit keys and columns); report the first, the operator fixes it and runs again.
  const firstError = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]).slice(0, 1);
  for (const err of [...firstError, ...doc.warnings]) {
    const m = msg.yamlSyntax(err.code, err.message);
    result.diagnostics.push({
      // An unknown tag (!foo) makes the parser keep the plain value: what the author meant is lost.
      severity: err.name === 'YAMLWarning' && err.code !== 'TAG_RESOLVE_FAILED' ? 'warning' : 'error',
      path: [],
      file,
      ...at(err.pos[0]),
      length: Math.max(1, err.pos[1] - err.pos[0]),
      ...m,
    });
  }
  if (hasErrors(result.diagnostics)) return result;
  if (!isMap(doc.contents)) {
    result.diagnostics.push({ severity: 'error', path: [], file, ...at(doc.contents?.range?.[0]), ...msg.notAMapping() });
    return result;
  }
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const why = String((e as Error).message ?? e);
    result.diagnostics.push({ severity: 'error', path: [], file, ...(/alias/i.test(why) ? at(firstAlias(doc)) : { line: 1, col: 1 }), ...msg.yamlUnparsable(why) });
    return result;
  }

  const locate = locator(doc, at);
  const position = (d: Omit<Diagnostic, 'file'>, keyOf?: string): Diagnostic => ({ ...d, file, ...locate(d.path, keyOf) });

  if (!validateSchema(value)) {
    // What the operator typed, for messages about a scalar YAML converted (1.30 became 1.3).
    const written = (path: FieldPath): string | undefined => {
      const node = path.length ? doc.getIn(path, true) : doc.contents;
      return isScalar(node) && node.range ? source.slice(node.range[0], node.range[1]).trim().slice(0, 40) : undefined;
    };
    result.diagnostics.push(...schemaDiagnostics(validateSchema.errors ?? [], written).map(({ d, keyOf }) => position(d, keyOf)));
    return result;
  }
  const topology = value as unknown as Topology;
  result.diagnostics.push(...checkRules(topology).map((d) => position(d)));
  if (!hasErrors(result.diagnostics)) result.topology = topology;
  return result;
}

/** The first document of the token stream, as parseDocument composes it (a second one is an error). */
function composeOne(tokens: readonly CST.Token[], length: number): Document.Parsed {
  let doc: Document.Parsed | undefined;
  for (const next of new Composer({ prettyErrors: false, uniqueKeys: true, strict: true }).compose(tokens, true, length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc!;
}

/** Offset of the first node nested deeper than max, walking the parser's token tree without recursion. */
function tooDeep(tokens: readonly CST.Token[], max: number): number | undefined {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [token, depth] = top;
    if (depth > max) return token.offset;
    if (token.type === 'document' && token.value) stack.push([token.value, depth]);
    else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      for (const item of token.items as { key?: CST.Token | null; value?: CST.Token }[]) {
        if (item.key) stack.push([item.key, depth + 1]);
        if (item.value) stack.push([item.value, depth + 1]);
      }
    }
  }
  return undefined;
}

/** Start of the first alias (*name): where an alias bomb begins to expand. */
function firstAlias(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  try {
    visit(doc, {
      Alias(_, node) {
        offset = node.range?.[0];
        return visit.BREAK;
      },
    });
  } catch {
    // A document too deep to walk: fall back to the start of the file.
  }
  return offset;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

/** Turns ajv's errors into operator-facing diagnostics: the rule, the fix, "did you mean". */
function schemaDiagnostics(errors: ErrorObject[], written: (path: FieldPath) => string | undefined): { d: Omit<Diagnostic, 'file'>; keyOf?: string }[] {
  const out: { d: Omit<Diagnostic, 'file'>; keyOf?: string }[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // A bad mapping key (propertyNames) comes as a pattern error carrying the key, plus a summary
    // error on the mapping: report the first, at the key itself.
    if (e.keyword === 'propertyNames') continue;
    if (e.propertyName !== undefined && e.keyword === 'pattern') {
      const path = [...pointerToPath(e.instancePath), e.propertyName];
      const parent = String(path[path.length - 2] ?? '');
      const d: Omit<Diagnostic, 'file'> = { severity: 'error', path, ...msg.badFormat(`${parent.replace(/s$/, '')} key`, e.propertyName, (e.parentSchema as { description?: string })?.description) };
      out.push({ d, keyOf: e.propertyName });
      continue;
    }
    const path = pointerToPath(e.instancePath);
    // The name an operator reads: `role`, or `sshAuthorizedKeys[0]` for a list item.
    const last = path[path.length - 1];
    const field = last === undefined ? '' : typeof last === 'number' ? `${String(path[path.length - 2] ?? '')}[${last}]` : String(last);
    let item: { d: Omit<Diagnostic, 'file'>; keyOf?: string };
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
        item = { d: { severity: 'error', path: [...path, key], ...msg.unknownField(key, known, didYouMean(key, known)) }, keyOf: key };
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        item = { d: { severity: 'error', path: [...path, missing], ...msg.missingField(missing) } };
        break;
      }
      case 'enum':
      case 'const': {
        const allowed = (e.keyword === 'enum' ? (e.schema as unknown[]) : [e.schema]).map(String);
        const got = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
        item = { d: { severity: 'error', path, ...msg.notOneOf(field, got ?? 'null', allowed, typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined) } };
        break;
      }
      case 'type':
        item = { d: { severity: 'error', path, ...msg.wrongType(field, (e.params as { type: string }).type, e.data, written(path)) } };
        break;
      case 'pattern':
        item = {
          d: { severity: 'error', path, ...msg.badFormat(field, String(e.data), (e.parentSchema as { description?: string })?.description) },
        };
        break;
      default:
        item = { d: { severity: 'error', path, ...msg.schemaOther(field, e.message ?? e.keyword) } };
    }
    const k = `${item.d.path.join('/')}|${item.d.message}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(item);
    }
  }
  return out;
}
