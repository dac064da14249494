import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { isInert, SlotTemplates } from '../../src/util/slot-template.js';

// The oracle is the yaml package writing the value alone as YAML 1.1, as the renderers do: an
// inert value comes out as itself, unquoted.
const writtenAsItself = (v: string): boolean => /^[A-Za-z0-9][A-Za-z0-9.:/-]*$/.test(v) && stringify(v, { version: '1.1', lineWidth: 0 }) === `${v}\n`;

test('isInert agrees with the yaml package on host names, addresses, MACs and YAML 1.1 look-alikes', () => {
  const values = [
    'cp1', 'worker100', 'lb-1', 'node.lab.example', '10.20.0.11', 'fd00::11', '2001:db8::1',
    '52:54:00:12:34:56', '52:54:00:ab:cd:ef', 'aa:bb:cc:dd:ee:ff', '12:30', '1:20:30', '190:20:30.15',
    'on', 'off', 'yes', 'no', 'y', 'n', 'Y', 'N', 'true', 'False', 'null', 'Null', '~',
    '0600', '0o17', '0x1F', '0b101', '1_000', '12', '-12', '1e3', '1.5', '.5', '.inf', '.NaN',
    '2026-12-01', '2026-12-01t10:00:00z', 'host:', 'a:b', 'a::b', 'http://x/y', '0', '00:00',
  ];
  for (let i = 0; i < 2000; i++) {
    // Random strings over the characters a name, an address or a MAC is made of.
    const chars = '0123456789abcdefxyonYN.:-/_';
    let v = '';
    for (let n = 1 + (i % 9); n > 0; n--) v += chars[(i * 7919 + n * 104729 + v.length * 31) % chars.length]!;
    values.push(v);
  }
  for (const v of values) assert.equal(isInert(v), writtenAsItself(v), v);
  assert.equal(isInert(''), true);
  assert.equal(isInert('kbslot3x'), false, 'a placeholder is never a value');
});

test('a slot template fills in exactly what rendering gives, and renders directly when it would not', () => {
  const templates = new SlotTemplates();
  const render = (v: readonly string[]): string => `name: ${v[0]}\nip: ${v[1]}\n`;
  assert.equal(templates.render('k', ['cp1', '10.0.0.1'], render), render(['cp1', '10.0.0.1']));
  assert.equal(templates.render('k', ['cp2', '10.0.0.2'], render), render(['cp2', '10.0.0.2']));
  // A value compared, not only written: the template would give the wrong text, so it is not used.
  let calls = 0;
  const peers = (v: readonly string[]): string => (calls++, ['a', 'b'].filter((n) => n !== v[0]).join(','));
  assert.equal(templates.render('p', ['a'], peers), 'b');
  assert.equal(templates.render('p', ['b'], peers), 'a');
  assert.ok(calls >= 3);
});
