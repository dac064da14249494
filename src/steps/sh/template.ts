// kubebake's static shell (the helpers, the first-boot runner, the report hook) lives in the .sh
// files of this folder, so editors, shellcheck and shell tests see it as shell
// (test/steps/static-shell.test.ts and its neighbours); the build embeds them (build-embed.mjs).
//
// A file is a header, then a blank line, then what kubebake ships. The header (comment lines only;
// the first is `# shellcheck shell=bash`, since a sourced file has no shebang to say so) tells the
// reader of the source what the code is for and stays out of every host's user-data, as the doc
// comments of a TypeScript module stay out of its output.
//
// Values come in through `@@NAME@@` placeholders, one substitution pass, every placeholder filled
// and every value used. They are host paths and numbers: each must be a word q() leaves as it is
// (shell.ts), one that needs no quoting, so it means the same unquoted or inside double quotes
// (the runner has "@@SCRIPT_DIR@@/$step.sh"). A value that would need quoting is refused, not
// quoted: a template cannot tell whether its placeholder sits inside quotes. Steps built from a
// topology's values (bootstrap, cni, sources…) stay in TypeScript, quoting each value with q().
import { q } from '../shell.js';
import { SH_FILES } from './embedded.generated.js';

export type ShFile = keyof typeof SH_FILES;

const PLACEHOLDER = /@@([A-Z][A-Z0-9_]*)@@/g;

/** What kubebake ships of a file: everything after its header (and the blank line that ends it), without the final newline. */
export function shippedPart(file: string, text: string): string {
  const end = text.indexOf('\n\n');
  if (end < 0 || !text.endsWith('\n') || text.endsWith('\n\n')) throw new Error(`${file}: expected a header, a blank line, the script, one final newline`);
  const header = text.slice(0, end).split('\n');
  if (header[0] !== '# shellcheck shell=bash' || header.some((l) => !l.startsWith('#'))) {
    throw new Error(`${file}: its header (the lines before the first blank line) must be comments, starting with # shellcheck shell=bash`);
  }
  return text.slice(end + 2, -1);
}

/** `text` with each @@NAME@@ replaced by values[NAME]; throws on a placeholder without a value, a value without a placeholder, or a value that needs quoting. */
export function fillPlaceholders(file: string, text: string, values: Readonly<Record<string, string | number>>): string {
  if (text.replace(PLACEHOLDER, '').includes('@@')) throw new Error(`${file}: a placeholder not of the form @@NAME@@`);
  const used = new Set<string>();
  const filled = text.replace(PLACEHOLDER, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${file}: no value for @@${name}@@`);
    if (q(value) !== String(value)) throw new Error(`${file}: @@${name}@@ = ${JSON.stringify(value)} needs quoting; placeholders take words that need none`);
    used.add(name);
    return String(value);
  });
  const unused = Object.keys(values).filter((n) => !used.has(n));
  if (unused.length) throw new Error(`${file}: no placeholder for ${unused.join(', ')}`);
  return filled;
}

/** The shipped text of one of this folder's .sh files, placeholders filled. */
export const shellFile = (file: ShFile, values: Readonly<Record<string, string | number>> = {}): string =>
  fillPlaceholders(file, shippedPart(file, SH_FILES[file]), values);
