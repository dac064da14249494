// The HCL helper: what it writes, HashiCorp's own parser (hcl2json, HCL in WASM) reads back as
// the same value — quotes, backslashes, newlines and template sequences included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from '@cdktf/hcl2json';
import { attr, block, call, comment, expr, hclString, hclTemplate, renderHcl, varRef } from '../../src/render/packer/hcl.js';

/** hcl2json decodes backslash escapes but keeps template escapes ($${, %%{) as written. */
const unescapeTemplate = (s: string): string => s.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');

const NASTY = [
  'plain',
  'quote " and backslash \\ and \\" both',
  'newline\nand\r\ncarriage return and\ttab',
  'interpolation ${var.secret} and directive %{ if true }x%{ endif }',
  'already escaped $${x} and %%{y}',
  'dollar $ alone, percent % alone, brace { alone, $$ and %% before text',
  'trailing backslash \\',
  'control \u0001\u001f\u007f and unicode — ü 🙂',
  '',
];

test('hclString: every value parses back to itself', async () => {
  for (const value of NASTY) {
    const json = (await parse('t.pkr.hcl', `a = ${hclString(value)}\n`)) as { a: string };
    assert.equal(unescapeTemplate(json.a), value, `round trip of ${JSON.stringify(value)}`);
    assert.doesNotMatch(json.a.replace(/\$\$\{|%%\{/g, ''), /\$\{|%\{/, 'no live template sequence');
  }
});

test('hclTemplate: literal parts are escaped, expressions interpolated', async () => {
  const t = hclTemplate`${expr('path.root')}/scripts/"${'a${b}'}".sh`;
  assert.equal(t.text, '"${path.root}/scripts/\\"a$${b}\\".sh"');
  const json = (await parse('t.pkr.hcl', `a = ${t.text}\n`)) as { a: string };
  assert.equal(json.a, '${path.root}/scripts/"a$${b}".sh');
});

test('renderHcl: blocks, labels, aligned attributes, maps with quoted keys, calls', async () => {
  const text = renderHcl([
    comment('header\nsecond line'),
    block('source', ['qemu', 'node-a'], [
      attr('iso_url', varRef('source_image_url')),
      attr('disk_image', true),
      attr('cpus', 2),
      attr('list', ['a', 'b"c']),
      attr('cd_content', { 'meta-data': call('file', hclTemplate`${expr('path.root')}/m`), plain_key: 'v' }),
      block('empty', [], []),
    ]),
  ]);
  assert.match(text, /^# header\n# second line\n/);
  assert.match(text, /iso_url    = var\.source_image_url\n/, 'aligned like packer fmt');
  const json = (await parse('t.pkr.hcl', text)) as { source: { qemu: Record<string, Record<string, unknown>[]> } };
  const body = json.source.qemu['node-a']![0]!;
  assert.equal(body.iso_url, '${var.source_image_url}');
  assert.equal(body.disk_image, true);
  assert.equal(body.cpus, 2);
  assert.deepEqual(body.list, ['a', 'b"c']);
  assert.deepEqual(body.cd_content, { 'meta-data': '${file("${path.root}/m")}', plain_key: 'v' });
});

test('renderHcl refuses names that are not identifiers', () => {
  assert.throws(() => renderHcl([attr('bad name', 1)]));
  assert.throws(() => varRef('x; y'));
  assert.throws(() => call('f(x)', 1));
});
