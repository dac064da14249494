// Hosts of one kind differ only in a few values (name, address, MAC): rendering each host's text
// anew would repeat the same serialisation thousands of times. A slot template renders once
// with placeholder values, then fills in each host's — only when that gives exactly what
// rendering would: values must be inert (serialised as themselves, alone or inside any text),
// and the first fill of every template is compared with a direct rendering (a key whose
// rendering uses a value other than as text — a load balancer's peers exclude itself by name —
// is rendered directly from then on).
import { Document } from 'yaml';

const slot = (i: number): string => `kbslot${i}x`;
const SLOT_PATTERN = /kbslot(\d+)x/g;
/** Characters that never change how YAML or shell treat the text around them. */
const INERT = /^[A-Za-z0-9][A-Za-z0-9.:/-]*$/;

/**
 * The YAML 1.1 types a plain scalar may resolve to other than a string, as the `yaml` package
 * tests them before it writes a string unquoted (stringifyString's plainString): a MAC like
 * 52:54:… is a sexagesimal number there, `on` a boolean. Asking the tags directly costs a regex
 * test; serialising each value to find out cost a document per value, the largest part of a
 * 5,000-host render.
 */
const yaml11 = new Document(null, { version: '1.1' }).schema;
const otherTypeTests = [...yaml11.tags, ...(yaml11.compat ?? [])]
  .filter((t): t is typeof t & { test: RegExp } => Boolean(t.default) && t.tag !== 'tag:yaml.org,2002:str' && 'test' in t && t.test instanceof RegExp)
  .map((t) => t.test);
/** The tags' tests as one alternation per flag set (each test is anchored): one match per value. */
const otherTypes = [...new Set(otherTypeTests.map((r) => r.flags))].map(
  (flags) => new RegExp(otherTypeTests.filter((r) => r.flags === flags).map((r) => `(?:${r.source})`).join('|'), flags.replace('g', '')),
);

/** A value YAML 1.1 writes as itself: no quoting (no indicator, no trailing colon), no other type. */
export function isInert(value: string): boolean {
  if (value === '') return true;
  if (!INERT.test(value) || value.endsWith(':') || otherTypes.some((r) => r.test(value))) return false;
  const hasSlot = SLOT_PATTERN.test(value);
  SLOT_PATTERN.lastIndex = 0;
  return !hasSlot;
}

interface Template { parts: string[]; slots: number[] }

function compile(text: string): Template {
  const parts: string[] = [];
  const slots: number[] = [];
  let last = 0;
  for (const m of text.matchAll(SLOT_PATTERN)) {
    parts.push(text.slice(last, m.index));
    slots.push(Number(m[1]));
    last = m.index! + m[0].length;
  }
  parts.push(text.slice(last));
  return { parts, slots };
}

function fill(t: Template, values: readonly string[]): string {
  let out = t.parts[0]!;
  for (let i = 0; i < t.slots.length; i++) out += values[t.slots[i]!]! + t.parts[i + 1]!;
  return out;
}

export class SlotTemplates {
  /** A template per key; null where filling in does not reproduce the direct rendering. */
  readonly #templates = new Map<string, Template | null>();

  /** The placeholders to render a template with: one per value. */
  static slots(count: number): string[] {
    return Array.from({ length: count }, (_, i) => slot(i));
  }

  /**
   * `render(values)` for the values given, through the template of `key` (every input of
   * `render` other than the values must be part of the key).
   */
  render(key: string, values: readonly string[], render: (values: readonly string[]) => string): string {
    if (!values.every(isInert)) return render(values);
    const known = this.#templates.get(key);
    if (known) return fill(known, values);
    if (known === null) return render(values);
    const template = compile(render(SlotTemplates.slots(values.length)));
    const direct = render(values);
    // A value used other than as text (compared, counted, hashed): this key renders directly.
    this.#templates.set(key, fill(template, values) === direct ? template : null);
    return direct;
  }
}
