// User-data sizes against each platform's limit, and the advice printed when one is exceeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { measure, sizeReport } from '../../src/render/delivery/sizes.js';
import type { HostSeed } from '../../src/render/delivery/seeds.js';

const seed = (host: string, userData: string): HostSeed => ({ host, userData, metaData: '', networkConfig: '' });

test('sizes are the file as written (bytes, not characters); base64 and gzip+base64 forms follow from it', () => {
  const [s] = measure([seed('a', 'é'.repeat(1000))]);
  assert.equal(s!.userData, 2000);
  assert.equal(s!.gzipBase64 % 4, 0);
  assert.ok(s!.gzip < 100, 'repetitive text compresses');
  assert.deepEqual(s!.over, []);
});

test('over EC2 as text but not gzip-compressed: the report says to attach user-data.gz there, with no warning', () => {
  const big = '#cloud-config\n' + 'write_files: []\n'.repeat(1200); // 19 KB, compresses well
  const r = sizeReport([seed('cp1', big), seed('w1', '#cloud-config\n')]);
  assert.deepEqual(measure([seed('cp1', big)])[0]!.over, []);
  assert.deepEqual(measure([seed('cp1', big)])[0]!.gzipOnly, ['EC2']);
  assert.deepEqual(r.warnings, []);
  assert.match(r.lines[0]!, /^  cp1: user-data 18\.8 KiB \(gzip 0\.\d KiB\) — EC2: attach user-data\.gz$/);
  assert.match(r.lines[1]!, /^  w1: user-data 0\.0 KiB \(gzip 0\.0 KiB\)$/);
});

test('over EC2 even gzip-compressed: a warning says to use image: baked or a form without a limit', () => {
  const noise = randomBytes(18 * 1024).toString('base64'); // 24 KiB of text, ~18 KiB gzip-compressed
  const [s] = measure([seed('x', noise)]);
  assert.ok(s!.gzip > 16 * 1024, String(s!.gzip));
  assert.deepEqual(s!.over, ['EC2']);
  assert.deepEqual(s!.gzipOnly, []);
  const r = sizeReport([seed('x', noise)]);
  assert.match(r.warnings[0]!, /^user-data of x is over EC2's 16\.0 KiB limit \(user-data, even gzip-compressed\)\. Use image: baked/);
});

test('incompressible user-data over vSphere\'s 64 KiB guestinfo value: the warning points at the cidata ISO', () => {
  const noise = randomBytes(60 * 1024).toString('base64'); // 80 KiB of text that gzip cannot shrink much
  const [s] = measure([seed('x', noise)]);
  assert.ok(s!.gzipBase64 > 64 * 1024, String(s!.gzipBase64));
  assert.deepEqual(s!.over, ['EC2', 'vSphere guestinfo', 'OpenStack']);
  assert.deepEqual(s!.gzipOnly, ['Azure'], '80 KiB of text, 60 KiB gzip-compressed: under Azure\'s 64 KiB');
  const r = sizeReport([seed('x', noise)]);
  assert.ok(r.warnings.some((w) => /over vSphere guestinfo's 64\.0 KiB limit \(gzip\+base64\)\. Attach the cidata ISO instead/.test(w)), r.warnings.join('\n'));
});
