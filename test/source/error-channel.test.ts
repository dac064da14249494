// One error channel (src/diagnostics/diagnostic.ts): what src/ throws on purpose is a
// DiagnosticError, and every diagnostic's words come from the catalogue (messages.ts). Read as
// text, line by line: a new Error class, or a `message:`/`hint:` given a value outside
// src/diagnostics, fails here. So does a "kubebake: …" line written to stderr anywhere but the
// CLI's one printer (src/cli/say.ts), which prints catalogue messages. The exceptions are listed
// below, each with why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/repo.js';

const SRC = repoPath('src');
/** src/ files outside src/diagnostics (which holds DiagnosticError and the catalogue). */
const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.startsWith('diagnostics/'));

const ERROR_CLASS = /\bclass\s+\w+\s+extends\s+\w*Error\b/;
/** An object key `message:` or `hint:` given a value (not a type such as `message: string`). */
const INLINE_MESSAGE = /(?:^|[{,])\s*(?:message|hint)\s*:(?!\s*(?:string|undefined)\b)/;

test('the patterns catch what they are for, and not a type or prose', () => {
  assert.ok(ERROR_CLASS.test('export class LockBusyError extends Error {'));
  for (const line of ['    message: `${path} is missing`,', "    hint: 'run again',", '  return { code, message: tls', '    message:']) assert.ok(INLINE_MESSAGE.test(line), line);
  for (const line of ['interface M { code: string; message: string; hint?: string }', '  message: string;', '`kubebake: ${d.message}\\n  hint: ${d.hint}`']) assert.ok(!INLINE_MESSAGE.test(line), line);
});

/** Lines of `pattern` in those files, as `src/<file>:<line>: <text>`, less the allowed files; comments are skipped. */
function offending(pattern: RegExp, allowed: Record<string, string>): string[] {
  const found: string[] = [];
  for (const f of files.filter((f) => !(f in allowed))) {
    readFileSync(join(SRC, f), 'utf8').split('\n').forEach((line, i) => {
      if (!/^\s*(\/\/|\*|\/\*)/.test(line) && pattern.test(line)) found.push(`src/${f}:${i + 1}: ${line.trim()}`);
    });
  }
  return found;
}

test('src/ declares no Error class of its own: I/O that cannot go on throws DiagnosticError', () => {
  const allowed = {
    // The server's answer to a remote client (an HTTP status and its text), thrown and caught within
    // one request's handler: it never reaches the CLI.
    'serve/server.ts': 'HttpError',
  };
  assert.deepEqual(offending(ERROR_CLASS, allowed), []);
});

test('src/ builds no diagnostic message inline: its words come from msg.* (src/diagnostics/messages.ts)', () => {
  const allowed = {
    // Problems in kubeadm's own words (its decoder's errors), quoted by msg.renderKubeadm.
    'verify/kubeadm-config.ts': 'KubeadmProblem',
    // Problems in cloud-init's schema's words (ajv's messages), quoted by msg.renderSchema.
    'verify/cloud-config.ts': 'SchemaProblem',
  };
  assert.deepEqual(offending(INLINE_MESSAGE, allowed), []);
});

/** stderr.write( whose text starts with a literal "kubebake:", also when the literal is on the next line. */
const INLINE_SAY = /stderr\.write\(\s*[`'"]kubebake:/g;

test('the stderr pattern catches the old inline form, on one line or two, and not what is allowed', () => {
  for (const text of [
    'process.stderr.write(`kubebake: --warn-days: "${opts.warnDays}" is not a whole number of days between 0 and 3650\\n`);',
    "process.stderr.write('kubebake: --from: an http(s) URL ending in \"/\"\\n');",
    'process.stderr.write(\n      `kubebake: the ${plan.packer.builder} builder needs settings that are never written to a file:\\n` +',
  ]) assert.equal(text.match(INLINE_SAY)?.length, 1, text);
  for (const text of ['process.stderr.write(formatDiagnostics(ds));', 'process.stderr.write(`warning: ${pxeRoot} does not exist yet`);', 'say(msg.badWarnDays(opts.warnDays));']) {
    assert.equal(text.match(INLINE_SAY), null, text);
  }
});

test('src/ writes no "kubebake: …" line to stderr itself: the words are msg.*, printed by src/cli/say.ts', () => {
  /** Where the pattern may match: the file, and a text its line holds. */
  const allowed: { file: string; line: string; why: string }[] = [
    { file: 'cli/say.ts', line: 'kubebake: ${m.message}', why: 'the one printer' },
    {
      file: 'cli/program.ts',
      line: 'kubebake: internal error:',
      why: 'the last resort for a bug: it prints what was thrown, not a message of the catalogue, and should depend on as little as possible',
    },
  ];
  const found: string[] = [];
  for (const f of (readdirSync(SRC, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(SRC, f), 'utf8');
    const lines = text.split('\n');
    for (const m of text.matchAll(INLINE_SAY)) {
      const end = m.index + m[0].length;
      const n = text.slice(0, end).split('\n').length;
      const line = lines[n - 1]!;
      if (/^\s*(\/\/|\*|\/\*)/.test(line) || allowed.some((a) => a.file === f && line.includes(a.line))) continue;
      found.push(`src/${f}:${n}: ${line.trim()}`);
    }
  }
  assert.deepEqual(found, []);
  // Each exception still exists: an allowance for a line that is gone is removed with it.
  for (const a of allowed) assert.ok(readFileSync(join(SRC, a.file), 'utf8').includes(a.line), `${a.file}: ${a.why}`);
});
