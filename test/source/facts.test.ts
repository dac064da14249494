// Each fact is spelled once: a literal that belongs to a table may appear in src/ only in that
// table's file, so a second copy cannot drift from the first. Comment lines may name a fact (they
// explain); code may not. Generated files are left out (they are built from the tables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/repo.js';
import { aptKeyring, aptSourceList } from '../../src/plan/host-paths.js';

const SRC = repoPath('src');
const sources = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((f) => /\.(ts|mjs)$/.test(f) && !f.includes('.generated.'))
  .map((f) => ({ file: `src/${f}`, text: readFileSync(join(SRC, f), 'utf8') }));

/** Lines that are code: not `//` or ` * ` comment lines. */
const codeLines = (text: string): string[] => text.split('\n').filter((l) => !/^\s*(\/\/|\/\*|\*)/.test(l));

/** The files whose code matches `pattern`, each with its first matching line. */
const filesWith = (pattern: RegExp, code = true): string[] =>
  sources.flatMap(({ file, text }) => {
    const line = (code ? codeLines(text) : text.split('\n')).find((l) => pattern.test(l));
    return line === undefined ? [] : [`${file}: ${line.trim()}`];
  });

const only = (hits: string[], home: readonly string[]): string[] => hits.filter((h) => !home.some((f) => h.startsWith(`${f}:`)));

const RULES: { fact: string; pattern: RegExp; home: string[]; comments?: boolean; homeUses?: false }[] = [
  // Comments too: a port number in an example drifts as easily as one in code.
  { fact: 'the API server port', pattern: /\b6443\b/, home: ['src/topology/facts/kubeadm.ts'], comments: true },
  { fact: "kubeadm's /etc/kubernetes paths", pattern: /\/etc\/kubernetes\b/, home: ['src/plan/host-paths.ts'] },
  { fact: 'apt keyring paths', pattern: /\/etc\/apt\/keyrings|-apt-keyring\b/, home: ['src/plan/host-paths.ts'] },
  { fact: 'apt source list paths', pattern: /\/etc\/apt\/sources\.list\.d\/\$\{/, home: ['src/plan/host-paths.ts'] },
  // The PXE tree needs delivery.server: formsFor is the rule, everything else asks it.
  { fact: 'which forms need delivery.server', pattern: /'pxe'.*server|server.*'pxe'/, home: ['src/render/delivery/forms.ts'] },
  // The lock's own name and its side files (candidates, stale copies) are made and parsed in lock.ts only.
  { fact: 'the lock file name', pattern: /LOCK_FILE\b|\}lock\b|kubebake-lock/, home: ['src/output/lock.ts'] },
  // Whether a process is alive (signal 0) is asked by the lock only.
  { fact: 'the lock owner check', pattern: /process\.kill\([^,]+,\s*0\s*\)/, home: ['src/output/lock.ts'] },
  // One private-file writer with one fsync policy (output/private-file.ts).
  { fact: 'syncing a file or folder', pattern: /\bfsync|\.sync\(\)|datasync/, home: ['src/output/private-file.ts'] },
  { fact: 'creating a file exclusively', pattern: /O_EXCL|flag: 'wx'/, home: ['src/output/private-file.ts'] },
  { fact: 'writing a file with a mode', pattern: /(?<!function )writeFile(Sync)?\([^;]*\bmode\b/, home: ['src/output/private-file.ts'], homeUses: false },
];

for (const rule of RULES) {
  test(`${rule.fact}: spelled only in ${rule.home.join(', ')}`, () => {
    const hits = filesWith(rule.pattern, !rule.comments);
    if (rule.homeUses !== false) assert.ok(hits.some((h) => rule.home.some((f) => h.startsWith(`${f}:`))), `the table itself no longer matches ${rule.pattern}: fix the rule`);
    assert.deepEqual(only(hits, rule.home), []);
  });
}

test('the static apt_source helper writes where the host-paths table says (a shell file cannot import it)', () => {
  const sh = readFileSync(repoPath('src/steps/sh/apt_source.sh'), 'utf8');
  assert.ok(sh.includes(`keyring=${aptKeyring('$1', 'gpg')}\n`), 'apt_source.sh keyring path differs from aptKeyring');
  assert.ok(sh.includes(`> "${aptSourceList('$1')}"`), 'apt_source.sh list path differs from aptSourceList');
});
