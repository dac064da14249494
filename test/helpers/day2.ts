// Topology texts for day-2 tests: a profile with a host taken out (as an operator edits it before
// `kubebake node remove`), and the files tests write them to.
import { readFileSync } from 'node:fs';
import { repoPath } from './repo.js';

export const profileText = (name: string): string => readFileSync(repoPath('profiles', `${name}.yaml`), 'utf8');

/**
 * The topology text without host `name` (a one-line flow entry of hosts, as the profiles write
 * control planes); with two control planes left, the override the rules ask for is added.
 */
export function withoutHost(text: string, name: string): string {
  const line = new RegExp(`^  - \\{ name: ${name}, .*\\n`, 'm');
  if (!line.test(text)) throw new Error(`no one-line host ${name} in the topology`);
  const out = text.replace(line, '');
  const cps = (out.match(/role: control-plane/g) ?? []).length;
  return cps % 2 === 0 && !/^overrides:/m.test(out)
    ? `${out}overrides:\n  - { check: etcd-quorum, reason: "a control plane is being replaced" }\n`
    : out;
}
