import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { parse } from 'yaml';
import { toYaml11 } from '../../src/util/yaml.js';
import { isInert, SlotTemplates } from '../../src/util/slot-template.js';

// Two oracles, neither taken from the implementation: values written out by hand (the names,
// addresses and MACs hosts have must be inert; what YAML 1.1 or a shell would read as something
// else must not), and what the yaml package and a real `sh` make of every value isInert accepts.

test('isInert: the values hosts have are inert', () => {
  const inert = [
    'cp1', 'worker100', 'lb-1', 'cp-01', 'node.lab.example', 'cp1.k8s.example.org',
    '10.20.0.11', '192.168.1.254', 'fd00::11', '2001:db8::1', 'fe80::5054:ff:fe12:3456',
    '52:54:00:ab:cd:ef', 'aa:bb:cc:dd:ee:ff', '0c-c4-7a-30-00-11',
    '', // an absent MAC or FQDN
  ];
  for (const v of inert) assert.equal(isInert(v), true, v);
});

test('isInert: what YAML 1.1 or a shell would read as other than itself is not inert', () => {
  const notInert: [string, string][] = [
    // YAML 1.1 (PyYAML, cloud-init's reader) resolves these plain scalars to another type.
    ...['on', 'off', 'yes', 'no', 'y', 'Y', 'n', 'N', 'true', 'False', 'null', 'Null', '~'].map((v): [string, string] => [v, 'a boolean or null']),
    ...['0600', '12', '-12', '0x1F', '0b101', '1_000', '1.5', '.5', '.inf', '.NaN'].map((v): [string, string] => [v, 'a number']),
    ['12:30', 'a sexagesimal number'],
    ['1:20:30', 'a sexagesimal number'],
    ['52:54:00:12:34:56', 'a MAC whose groups are all below 60 is a sexagesimal number'],
    ['2026-12-01', 'a timestamp'],
    // YAML indicators: the value would not be written plain, or would end the scalar in text.
    ['host:', 'a mapping key'],
    ['-', 'a sequence entry'],
    ['&x', 'an anchor'], ['*x', 'an alias'], ['!x', 'a tag'], ['|x', 'a block scalar'], ['>x', 'a folded scalar'],
    ['[x]', 'a flow sequence'], ['{x}', 'a flow mapping'], ['@x', 'reserved'], ['`x', 'reserved'], ['%x', 'a directive'],
    ['#x', 'a comment after a space, and in the shell at a word start'],
    // The shell: expansion, quoting, word splitting, globbing, operators, options.
    ['a$b', 'a parameter expansion'], ['$(id)', 'a command substitution'], ['a`id`', 'a command substitution'],
    ['a"b', 'a quote'], ["a'b", 'a quote'], ['a\\b', 'an escape'],
    ['a b', 'two words'], ['a\tb', 'two words'], ['a\nb', 'two lines'],
    ['a*', 'a glob'], ['a?', 'a glob'], ['a[1]', 'a glob'], ['a{b,c}', "bash's brace expansion"],
    ['a;b', 'two commands'], ['a&b', 'a background job'], ['a|b', 'a pipe'], ['a<b', 'a redirection'], ['a>b', 'a redirection'], ['a(b', 'a syntax error'],
    ['~x', "a home directory at a word's start"],
    ['-n', 'an option to the command it is an argument of'],
    ['kbslot3x', 'a placeholder of the templates themselves'],
  ];
  for (const [v, why] of notInert) assert.equal(isInert(v), false, `${JSON.stringify(v)}: ${why}`);
});

/** A deterministic stream of pseudo-random numbers in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Strings over what names, addresses and MACs are made of, a quarter of them with one character of another kind. */
function randomValues(count: number): string[] {
  const next = random(25);
  const pick = (chars: string): string => chars[Math.floor(next() * chars.length)]!;
  const plain = 'abcdefxyonYN0123456789.:-/';
  const other = ' \t\n#*?[]{}$`"\'\\;&|<>()!~=,%@_+';
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    let v = '';
    for (let n = 1 + Math.floor(next() * 9); n > 0; n--) v += pick(plain);
    if (next() < 0.25) {
      const at = Math.floor(next() * (v.length + 1));
      v = v.slice(0, at) + pick(other) + v.slice(at);
    }
    values.push(v);
  }
  return values;
}

const values = randomValues(3000);
const accepted = values.filter((v) => isInert(v));

test('the random values are not all accepted nor all refused (the checks below see both kinds)', () => {
  assert.ok(accepted.length > 500, `${accepted.length} accepted`);
  assert.ok(values.length - accepted.length > 500, `${values.length - accepted.length} refused`);
});

test('every value isInert accepts reads back as itself from YAML 1.1, alone and inside text', () => {
  for (const v of accepted) {
    assert.equal(toYaml11(v), `${v}\n`, `${JSON.stringify(v)} is written unquoted`);
    assert.deepEqual(parse(`k: ${v}\nt: a ${v} b\nl:\n  - ${v}\n`, { version: '1.1' }), { k: v, t: `a ${v} b`, l: [v] }, JSON.stringify(v));
  }
});

test('every value isInert accepts is itself to sh: alone, inside a word, in double quotes, assigned', () => {
  const script = accepted.map((v) => `name=${v}; printf '%s|%s|%s|%s\\n' ${v} x${v}y "${v}" "$name"`).join('\n');
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.split('\n').slice(0, -1), accepted.map((v) => `${v}|x${v}y|${v}|${v}`));
});

test("a slot template's fill is what the YAML serialiser writes for every value, accepted or not", () => {
  // The value where host text puts it: alone, inside text, in a list, in a literal block of shell.
  const render = (v: readonly string[]): string => toYaml11({
    hostname: v[0],
    fqdn: `${v[0]}.lab.example`,
    hosts: [`10.0.0.1 ${v[0]}`, v[0]],
    runcmd: [['hostnamectl', 'set-hostname', v[0]]],
    write_files: [{ path: `/etc/kubebake/${v[0]}.conf`, content: `#!/bin/sh\nname=${v[0]}\necho "${v[0]}" > /etc/hostname\n` }],
  });
  const templates = new SlotTemplates();
  let direct = 0;
  const counted = (v: readonly string[]): string => (direct++, render(v));
  assert.equal(templates.render('doc', ['cp1'], counted), render(['cp1']));
  direct = 0;
  for (const v of values) assert.equal(templates.render('doc', [v], counted), render([v]), JSON.stringify(v));
  // The template was used (not rendered directly) for many of them.
  assert.ok(values.length - direct > 500, `${values.length - direct} filled in`);
});

test('a slot template fills in exactly what rendering gives, and renders directly when it would not', () => {
  const templates = new SlotTemplates();
  const render = (v: readonly string[]): string => `name: ${v[0]}\nip: ${v[1]}\n`;
  assert.equal(templates.render('k', ['cp1', '10.0.0.1'], render), 'name: cp1\nip: 10.0.0.1\n');
  assert.equal(templates.render('k', ['cp2', '10.0.0.2'], render), 'name: cp2\nip: 10.0.0.2\n');
  // A value compared, not only written: the template would give the wrong text, so it is not used.
  let calls = 0;
  const peers = (v: readonly string[]): string => (calls++, ['a', 'b'].filter((n) => n !== v[0]).join(','));
  assert.equal(templates.render('p', ['a'], peers), 'b');
  assert.equal(templates.render('p', ['b'], peers), 'a');
  assert.ok(calls >= 3);
});
