// User-data sizes against each platform's limit, and the advice printed when one is exceeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { measure, sizeReport } from '../../src/render/delivery/sizes.js';
import type { HostSeed } from '../../src/render/delivery/seeds.js';

const seed = (host: string, userData: string): HostSeed => ({ host, userData, metaData: '', networkConfig: '', vendorData: '' });

test('sizes are the file as written (bytes, not characters); base64 and gzip+base64 forms follow from it', () => {
  const [s] = measure([seed('a', 'é'.repeat(1000))]);
  assert.equal(s!.userData, 2000);
  assert.equal(s!.gzipBase64 % 4, 0);
  assert.ok(s!.gzip < 100, 'repetitive text compresses');
  assert.deepEqual(s!.over, []);
});

test('over EC2 only: the warning suggests gzip-compressed user-data or baked images, with each host\'s gzip size', () => {
  const big = '#cloud-config\n' + 'write_files: []\n'.repeat(1200); // 19 KB, compresses well
  const r = sizeReport([seed('cp1', big), seed('w1', '#cloud-config\n')]);
  assert.deepEqual(measure([seed('cp1', big)])[0]!.over, ['EC2']);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /^user-data of cp1 is over EC2's 16\.0 KiB limit \(user-data\)\. There, pass it gzip-compressed .*gzip: cp1 0\.\d KiB.*image: baked/);
  assert.match(r.lines[0]!, /^  cp1: user-data 18\.8 KiB \(gzip\+base64 0\.\d KiB\) — over EC2$/);
  assert.match(r.lines[1]!, /^  w1: user-data 0\.0 KiB/);
});

test('incompressible user-data over vSphere\'s 64 KiB guestinfo value: the warning points at the cidata ISO', () => {
  const noise = randomBytes(60 * 1024).toString('base64'); // 80 KiB of text that gzip cannot shrink much
  const [s] = measure([seed('x', noise)]);
  assert.ok(s!.gzipBase64 > 64 * 1024, String(s!.gzipBase64));
  assert.deepEqual(s!.over, ['EC2', 'vSphere guestinfo', 'OpenStack', 'Azure']);
  const r = sizeReport([seed('x', noise)]);
  assert.ok(r.warnings.some((w) => /over vSphere guestinfo's 64\.0 KiB limit \(gzip\+base64\)\. Attach the cidata ISO instead/.test(w)), r.warnings.join('\n'));
});
