import { stringify } from 'yaml';

/**
 * YAML for cloud-init, which parses with PyYAML (YAML 1.1): emitting as 1.1 makes the `yaml`
 * package quote strings that 1.1 would read as something else ('0600' octal, yes/no/on/off
 * booleans, 1:30 sexagesimal). Long lines are not folded so scripts stay byte-for-byte.
 */
export function toYaml11(value: unknown, opts: { indentSeq?: boolean } = {}): string {
  return stringify(value, { version: '1.1', lineWidth: 0, minContentWidth: 0, blockQuote: 'literal', indentSeq: opts.indentSeq ?? true });
}
