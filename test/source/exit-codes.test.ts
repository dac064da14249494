// Every exit code the CLI returns is named in src/cli/exit.ts: no bare number in a return,
// setExit or process.exit of src/cli/, so a code cannot mean two things in two commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/repo.js';

const CLI = repoPath('src/cli');

test('src/cli returns no bare exit code', () => {
  const bare: string[] = [];
  for (const f of readdirSync(CLI).filter((n) => n.endsWith('.ts') && n !== 'exit.ts')) {
    readFileSync(join(CLI, f), 'utf8').split('\n').forEach((line, i) => {
      if (/\breturn \d+;|setExit\(\d|process\.exit(Code = |\()\d/.test(line)) bare.push(`src/cli/${f}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(bare, []);
});
