// One error channel (src/diagnostics/diagnostic.ts): what src/ throws on purpose is a
// DiagnosticError, and every diagnostic's words come from the catalogue (messages.ts). Read as
// text, line by line: a new Error class, or a `message:`/`hint:` given a value outside
// src/diagnostics, fails here. The exceptions are listed below, each with why.
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
