// The one small helper for writing HCL (Packer templates). There is no HCL writer library for
// Node, so templates are built as a tiny tree (attributes, blocks, comments) and printed here;
// every literal string goes through hclString(), and expressions are only ever the ones this
// module's callers spell out (var.x, file(...)), never data from the topology.

/** An HCL expression written as is: `var.cpus`, `file("...")`. Never built from input data. */
export class HclExpr {
  constructor(readonly text: string) {}
}

/** A raw expression (a variable reference, a function call). */
export const expr = (text: string): HclExpr => new HclExpr(text);
/** `var.<name>`. */
export const varRef = (name: string): HclExpr => {
  if (!IDENT.test(name)) throw new Error(`not an HCL identifier: ${name}`);
  return expr(`var.${name}`);
};

export type HclValue = string | number | boolean | null | HclExpr | readonly HclValue[] | { readonly [key: string]: HclValue };

export interface HclAttr { kind: 'attr'; name: string; value: HclValue }
export interface HclBlock { kind: 'block'; type: string; labels: string[]; body: HclNode[] }
export interface HclComment { kind: 'comment'; text: string }
export interface HclBlank { kind: 'blank' }
export type HclNode = HclAttr | HclBlock | HclComment | HclBlank;

export const attr = (name: string, value: HclValue): HclAttr => ({ kind: 'attr', name, value });
export const block = (type: string, labels: string[], body: HclNode[]): HclBlock => ({ kind: 'block', type, labels, body });
export const comment = (text: string): HclComment => ({ kind: 'comment', text });
export const blank: HclBlank = { kind: 'blank' };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A quoted HCL string literal whose value is exactly `value`: `\` `"` and control characters
 * are escaped, and the template sequences `${` and `%{` become `$${` and `%%{` so nothing in the
 * value is ever interpolated by Packer.
 */
export function hclString(value: string): string {
  return `"${escapeTemplateText(value)}"`;
}

/** The inside of a quoted template: literal text, escaped. */
function escapeTemplateText(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const next = value[i + 1];
    if (c === '\\') out += '\\\\';
    else if (c === '"') out += '\\"';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if ((c === '$' || c === '%') && next === '{') out += c + c;
    else if (c < ' ' || c === '\u007f') out += `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += c;
  }
  return out;
}

/**
 * A quoted template mixing literal text (escaped) and expressions (interpolated):
 * hclTemplate`${expr('path.root')}/scripts/${name}` → `"${path.root}/scripts/01-base.sh"`.
 * Plain strings among the values are literal text too.
 */
export function hclTemplate(strings: TemplateStringsArray, ...values: (string | HclExpr)[]): HclExpr {
  let out = '';
  strings.forEach((s, i) => {
    out += escapeTemplateText(s);
    const v = values[i];
    if (v === undefined) return;
    out += v instanceof HclExpr ? `\${${v.text}}` : escapeTemplateText(v);
  });
  return expr(`"${out}"`);
}

/** A function call whose arguments are HCL values: call('file', hclTemplate`...`). */
export const call = (fn: string, ...args: HclValue[]): HclExpr => {
  if (!IDENT.test(fn)) throw new Error(`not an HCL function name: ${fn}`);
  return expr(`${fn}(${args.map(renderInline).join(', ')})`);
};

/** A value on one line (function arguments): objects as `{ a = 1, b = 2 }`. */
function renderInline(v: HclValue): string {
  if (isObject(v)) {
    const entries = Object.entries(v).map(([k, x]) => `${renderKey(k)} = ${renderInline(x)}`);
    return entries.length ? `{ ${entries.join(', ')} }` : '{}';
  }
  if (Array.isArray(v)) return `[${v.map(renderInline).join(', ')}]`;
  return renderValue(v, 0);
}

function renderKey(key: string): string {
  return IDENT.test(key) ? key : hclString(key);
}

function isObject(v: HclValue): v is { readonly [key: string]: HclValue } {
  return typeof v === 'object' && v !== null && !(v instanceof HclExpr) && !Array.isArray(v);
}

function renderValue(v: HclValue, indent: number): string {
  if (v === null) return 'null';
  if (v instanceof HclExpr) return v.text;
  if (typeof v === 'string') return hclString(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not an HCL number: ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) {
    const items = v.map((x) => renderValue(x, indent + 1));
    const inline = `[${items.join(', ')}]`;
    if (inline.length <= 80 && !inline.includes('\n')) return inline;
    const pad = '  '.repeat(indent + 1);
    return `[\n${items.map((x) => `${pad}${x},`).join('\n')}\n${'  '.repeat(indent)}]`;
  }
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (!entries.length) return '{}';
    const pad = '  '.repeat(indent + 1);
    const keys = entries.map(([k]) => renderKey(k));
    const width = Math.max(...keys.map((k) => k.length));
    const lines = entries.map(([, x], i) => `${pad}${keys[i]!.padEnd(width)} = ${renderValue(x, indent + 1)}`);
    return `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}`;
  }
  throw new Error('unsupported HCL value');
}

/** Prints nodes like `packer fmt` does: two-space indent, `=` aligned within a run of attributes. */
export function renderHcl(nodes: readonly HclNode[], indent = 0): string {
  const pad = '  '.repeat(indent);
  const out: string[] = [];
  let run: HclAttr[] = [];
  const flush = (): void => {
    if (!run.length) return;
    const width = Math.max(...run.map((a) => a.name.length));
    for (const a of run) out.push(`${pad}${a.name.padEnd(width)} = ${renderValue(a.value, indent)}`);
    run = [];
  };
  for (const n of nodes) {
    if (n.kind === 'attr') {
      if (!IDENT.test(n.name)) throw new Error(`not an HCL attribute name: ${n.name}`);
      run.push(n);
      // A multi-line value ends the alignment run, as packer fmt does.
      if (renderValue(n.value, indent).includes('\n')) flush();
      continue;
    }
    flush();
    if (n.kind === 'blank') out.push('');
    else if (n.kind === 'comment') for (const line of n.text.split('\n')) out.push(`${pad}#${line ? ' ' + line : ''}`);
    else {
      if (!IDENT.test(n.type)) throw new Error(`not an HCL block type: ${n.type}`);
      const labels = n.labels.map((l) => ` ${hclString(l)}`).join('');
      if (n.body.length) out.push(`${pad}${n.type}${labels} {`, renderHcl(n.body, indent + 1).replace(/\n$/, ''), `${pad}}`);
      else out.push(`${pad}${n.type}${labels} {}`);
    }
  }
  flush();
  return out.filter((l, i) => !(l === '' && out[i - 1] === '')).join('\n') + '\n';
}

/** A whole file: a header comment, then the nodes. */
export function hclFile(header: string, nodes: readonly HclNode[]): string {
  return renderHcl([comment(header), blank, ...nodes]);
}
