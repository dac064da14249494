// ensurePacker/locatePacker against a local releases server (127.0.0.1, random port) that serves
// release fixtures this test builds: a zip with a STAND-IN `packer` shell script (not Packer:
// it only answers `version`) followed by LICENSE.txt (so "chmod the last entry", as
// @hashicorp/js-releases does, would hit the wrong file), a SHA256SUMS, and a detached signature
// made with an OpenPGP key generated here. No request leaves 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import yazl from 'yazl';
import { HASHICORP_RELEASE_KEY, HASHICORP_RELEASE_KEY_FINGERPRINT } from '../../src/packer/hashicorp-key.js';
import { DiagnosticError } from '../../src/diagnostics/diagnostic.js';
import { PACKER_VERSION, ensurePacker, locatePacker, parseSha256Sums, type EnsurePackerOptions } from '../../src/packer/release.js';
import { fromRoot } from '../helpers/paths.js';

const V = PACKER_VERSION;
const HOST_TARGET = `${{ linux: 'linux', darwin: 'darwin' }[process.platform as 'linux']}_${{ x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64']}`;
const ZIP_NAME = `packer_${V}_${HOST_TARGET}.zip`;
const SUMS_NAME = `packer_${V}_SHA256SUMS`;

/** A stand-in for the packer binary: prints a version line like the real one, nothing else. */
const standInPackerScript = (version: string): string =>
  `#!/bin/sh\n# STAND-IN for packer (test fixture): it only answers "version".\nif [ "$1" = version ]; then echo "Packer v${version}"; exit 0; fi\necho "stand-in packer: unsupported $*" >&2\nexit 1\n`;

function buildZip(entries: { name: string; data: Buffer; mode: number }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(e.data, e.name, { mode: e.mode, mtime: new Date(0) });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function detachedSignature(data: Buffer, armoredPrivateKey: string): Promise<Buffer> {
  const signingKeys = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
  const sig = await openpgp.sign({ message: await openpgp.createMessage({ binary: new Uint8Array(data) }), signingKeys, detached: true, format: 'binary' });
  return Buffer.from(sig as Uint8Array);
}

// --- the fixture server -------------------------------------------------------------------------
/** Sites served under /<site>/packer/<version>/<file>; anything else is a 404. */
const sites = new Map<string, Map<string, Buffer>>();
const requests: string[] = [];
let server: Server;
let base = '';
let work = '';
let trustedPublicKey = '';
const countFor = (site: string): number => requests.filter((r) => r.startsWith(`/${site}/`)).length;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'kubebake-packer-release-'));
  const trusted = await openpgp.generateKey({ userIDs: [{ name: 'kubebake test release key' }], format: 'armored' });
  const untrusted = await openpgp.generateKey({ userIDs: [{ name: 'someone else' }], format: 'armored' });
  trustedPublicKey = trusted.publicKey;

  const packerEntry = { name: 'packer', data: Buffer.from(standInPackerScript(V)), mode: 0o100644 }; // not executable in the zip
  const license = { name: 'LICENSE.txt', data: Buffer.from('Business Source License (stand-in text)\n'), mode: 0o100644 };
  const zip = await buildZip([packerEntry, license]);
  const sums = Buffer.from(`${'0'.repeat(64)}  packer_${V}_darwin_amd64.zip\n${sha256(zip)}  ${ZIP_NAME}\n`);
  const goodSig = await detachedSignature(sums, trusted.privateKey);
  const files = (over: Record<string, Buffer>): Map<string, Buffer> => new Map(Object.entries({ [SUMS_NAME]: sums, [`${SUMS_NAME}.sig`]: goodSig, [ZIP_NAME]: zip, ...over }));

  const tampered = Buffer.from(zip);
  tampered[40] = tampered[40]! ^ 0xff;
  sites.set('good', files({}));
  sites.set('tampered', files({ [ZIP_NAME]: tampered }));
  // SHA256SUMS altered after signing (a different hash for the zip), served with the original .sig.
  sites.set('altered-sums', files({ [SUMS_NAME]: Buffer.from(sums.toString().replace(sha256(zip), sha256(tampered))), [ZIP_NAME]: tampered }));
  sites.set('untrusted', files({ [`${SUMS_NAME}.sig`]: await detachedSignature(sums, untrusted.privateKey) }));
  const linuxOnlyOther = Buffer.from(`${sha256(zip)}  packer_${V}_plan9_amd64.zip\n`);
  sites.set('no-build', files({ [SUMS_NAME]: linuxOnlyOther, [`${SUMS_NAME}.sig`]: await detachedSignature(linuxOnlyOther, trusted.privateKey) }));
  sites.set('empty', new Map());
  // Signed sums, but the zip itself is missing (a half-synced mirror).
  const noZip = files({});
  noZip.delete(ZIP_NAME);
  sites.set('no-zip', noZip);

  server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const m = /^\/([^/]+)\/packer\/([^/]+)\/([^/]+)$/.exec(url);
    const body = m && m[2] === V ? sites.get(m[1]!)?.get(m[3]!) : undefined;
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** Options for one case: its own empty cache, an empty PATH, the test key trusted. */
function caseOptions(site: string, over: EnsurePackerOptions = {}): EnsurePackerOptions & { cacheDir: string; lines: string[] } {
  const cacheDir = join(work, `cache-${++n}`);
  const lines: string[] = [];
  return { cacheDir, baseUrl: `${base}/${site}`, trustedKeys: trustedPublicKey, env: { PATH: '', HOME: work }, log: (l) => lines.push(l), lines, ...over };
}

/** An expected failure to obtain Packer: a DiagnosticError with one packer.* diagnostic; `message` with its hint, as bake prints them. */
interface Failure { code: string; message: string; hint: string }
function failureOf(e: unknown): Failure | undefined {
  const d = e instanceof DiagnosticError && e.diagnostics.length === 1 ? e.diagnostics[0]! : undefined;
  return d?.code.startsWith('packer.') ? { code: d.code.slice('packer.'.length), message: `${d.message}\n${d.hint}`, hint: d.hint ?? '' } : undefined;
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<Failure> {
  try {
    await p;
  } catch (e) {
    const f = failureOf(e);
    assert.ok(f, `expected a packer.* DiagnosticError, got ${String(e)}`);
    assert.equal(f.code, code, f.message);
    if (message) assert.match(f.message, message);
    return f;
  }
  assert.fail(`expected a packer.* DiagnosticError "${code}"`);
}

/** A directory holding a stand-in `packer` that reports `version` (for PATH cases). */
function pathDirWithStandIn(version: string): string {
  const dir = join(work, `path-${++n}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'packer'), standInPackerScript(version));
  chmodSync(join(dir, 'packer'), 0o755);
  return dir;
}

// --- cases ----------------------------------------------------------------------------------------

test('a good release is verified, unpacked with packer 0755, cached, and the second call uses the cache', async () => {
  const o = caseOptions('good');
  const first = await locatePacker(o);
  assert.equal(first.source, 'download');
  assert.equal(first.path, join(o.cacheDir, V, 'packer'));
  assert.equal(statSync(first.path).mode & 0o777, 0o755);
  assert.equal(statSync(join(o.cacheDir, V, 'LICENSE.txt')).mode & 0o777, 0o644, 'the last zip entry must not be the one made executable');
  assert.equal(execFileSync(first.path, ['version'], { encoding: 'utf8' }).trim(), `Packer v${V}`);
  assert.deepEqual(readdirSync(o.cacheDir), [V], 'the temporary download directory is removed');
  const served = countFor('good');
  assert.equal(served, 3, 'SHA256SUMS, its .sig and the zip');

  const second = await ensurePacker(o);
  assert.equal(second, first.path);
  assert.equal(countFor('good'), served, 'the cached binary is used without asking the server');
});

test('a zip whose sha256 differs from the signed SHA256SUMS is rejected and nothing is cached', async () => {
  const o = caseOptions('tampered');
  await rejectsWith(locatePacker(o), 'checksum-mismatch', new RegExp(`${ZIP_NAME.replace(/\./g, '\\.')} from .* has sha256 [0-9a-f]{64}, but the signed`));
  assert.deepEqual(readdirSync(o.cacheDir), [], 'no version directory and no leftovers');
});

test('SHA256SUMS signed by an untrusted key is rejected before the zip is fetched', async () => {
  const o = caseOptions('untrusted');
  const e = await rejectsWith(locatePacker(o), 'bad-signature', /does not verify against the trusted release key/);
  assert.match(e.hint, /mirror must serve the original SHA256SUMS/);
  assert.ok(!requests.some((r) => r.startsWith('/untrusted/') && r.endsWith('.zip')), 'the zip is never downloaded');
  assert.deepEqual(readdirSync(o.cacheDir), []);
});

test('SHA256SUMS changed after it was signed is rejected (the signature covers its content)', async () => {
  const o = caseOptions('altered-sums');
  await rejectsWith(locatePacker(o), 'bad-signature');
  assert.deepEqual(readdirSync(o.cacheDir), []);
});

test("by default only HashiCorp's key is trusted: a release signed by the test key is rejected", async () => {
  const { trustedKeys: _ignored, ...o } = caseOptions('good');
  await rejectsWith(locatePacker(o), 'bad-signature');
});

test('a 404 says not-found and how to fix a mirror', async () => {
  const o = caseOptions('empty');
  const e = await rejectsWith(locatePacker(o), 'not-found', /HTTP 404/);
  assert.match(e.hint, new RegExp(`mirror .* carries packer/${V.replace(/\./g, '\\.')}/`));
});

test('a zip missing from a mirror whose sums are signed is not-found too, and nothing is cached', async () => {
  const o = caseOptions('no-zip');
  const e = await rejectsWith(locatePacker(o), 'not-found', new RegExp(`${ZIP_NAME.replace(/\./g, '\\.')} was not found \\(HTTP 404\\)`));
  assert.match(e.hint, /mirror/);
  assert.deepEqual(readdirSync(o.cacheDir), [], 'no half-finished download is left in the cache');
});

test('a release without a build for this platform says unsupported-platform', async () => {
  await rejectsWith(locatePacker(caseOptions('no-build')), 'unsupported-platform', new RegExp(`does not list ${ZIP_NAME.replace(/\./g, '\\.')}`));
  await rejectsWith(locatePacker(caseOptions('good', { platform: 'aix' })), 'unsupported-platform', /no Packer build for aix/);
});

test('an unreachable server says network, with the mirror variable in the advice', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const e = await rejectsWith(locatePacker(caseOptions('good', { baseUrl: `http://127.0.0.1:${port}` })), 'network');
  assert.match(e.hint, /KUBEBAKE_RELEASES_URL/);
});

test('KUBEBAKE_RELEASES_URL in the environment is used when no baseUrl is given', async () => {
  const { baseUrl: _unused, ...o } = caseOptions('good');
  const before = countFor('good');
  const r = await locatePacker({ ...o, env: { ...o.env, KUBEBAKE_RELEASES_URL: `${base}/good/` } });
  assert.equal(r.source, 'download');
  assert.equal(countFor('good'), before + 3);
});

test('a packer of exactly the pinned version on PATH is used; others are ignored', async () => {
  const right = pathDirWithStandIn(V);
  const wrong = pathDirWithStandIn('1.6.6');

  // The right one is used, without touching the server (the site would 404 anyway).
  const o1 = caseOptions('empty', { env: { PATH: `${wrong}:${right}`, HOME: work } });
  const asked = countFor('empty');
  const r1 = await locatePacker(o1);
  assert.deepEqual(r1, { path: join(right, 'packer'), version: V, source: 'path' });
  assert.equal(countFor('empty'), asked);
  assert.ok(o1.lines.some((l) => l.includes(`ignoring ${join(wrong, 'packer')} from PATH (it is 1.6.6`)), o1.lines.join('\n'));

  // Only a wrong one: it is ignored and the release is downloaded.
  const o2 = caseOptions('good', { env: { PATH: wrong, HOME: work } });
  const r2 = await locatePacker(o2);
  assert.equal(r2.source, 'download');
  assert.equal(r2.path, join(o2.cacheDir, V, 'packer'));

  // usePath: false skips PATH altogether.
  const r3 = await locatePacker(caseOptions('good', { env: { PATH: right, HOME: work }, usePath: false }));
  assert.equal(r3.source, 'download');
});

test('a broken cache entry (wrong version) is replaced by a fresh download', async () => {
  const o = caseOptions('good');
  mkdirSync(join(o.cacheDir, V), { recursive: true });
  writeFileSync(join(o.cacheDir, V, 'packer'), standInPackerScript('0.0.1'));
  chmodSync(join(o.cacheDir, V, 'packer'), 0o755);
  const r = await locatePacker(o);
  assert.equal(r.source, 'download');
  assert.equal(execFileSync(r.path, ['version'], { encoding: 'utf8' }).trim(), `Packer v${V}`);
  assert.ok(o.lines.some((l) => l.includes('ignoring the cached')));
});

test('the default cache is $XDG_CACHE_HOME/kubebake/packer/<version>/packer', async () => {
  const xdg = join(work, `xdg-${++n}`);
  const path = await ensurePacker({ baseUrl: `${base}/good`, trustedKeys: trustedPublicKey, env: { PATH: '', HOME: work, XDG_CACHE_HOME: xdg } });
  assert.equal(path, join(xdg, 'kubebake', 'packer', V, 'packer'));
  assert.ok(existsSync(path));
});

test('invalid versions and URLs are refused before anything is fetched', async () => {
  await rejectsWith(locatePacker(caseOptions('good', { version: '../../etc' })), 'invalid-option');
  await rejectsWith(locatePacker(caseOptions('good', { baseUrl: 'ftp://mirror.invalid/' })), 'invalid-option', /not http\(s\)/);
});

test('SHA256SUMS parsing is exact', () => {
  const h = 'a'.repeat(64);
  assert.deepEqual([...parseSha256Sums(`${h}  a.zip\n${'B'.repeat(64)}  b.zip\n`)], [['a.zip', h], ['b.zip', 'b'.repeat(64)]]);
  const bad = (text: string, re: RegExp): void => assert.throws(() => parseSha256Sums(text), (e: unknown) => failureOf(e)?.code === 'bad-release' && re.test(failureOf(e)!.message));
  bad(`${h}  a.zip\n${h}  a.zip\n`, /listed twice/);
  bad(`${h} a.zip\n`, /expected "<sha256>  <filename>"/);
  bad(`${h.slice(1)}  a.zip\n`, /line 1/);
  bad(`${h}  a.zip\n\n${h}  b.zip\n`, /line 2/);
  bad(`${h}  dir/a.zip\n`, /line 1/);
  bad('', /empty/);
  // A name that merely contains the wanted one is a different file.
  const sums = parseSha256Sums(`${h}  packer_1_linux_amd64.zip.sig\n`);
  assert.equal(sums.get('packer_1_linux_amd64.zip'), undefined);
});

test("the built-in HashiCorp key is the one @hashicorp/js-releases ships, fingerprint C874…468F", async () => {
  const lib = readFileSync(fromRoot('node_modules', '@hashicorp', 'js-releases', 'out', 'index.js'), 'utf8');
  const theirs = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/.exec(lib)?.[0];
  assert.ok(theirs, 'the key is no longer in @hashicorp/js-releases/out/index.js');
  const [ours, their] = await Promise.all([openpgp.readKey({ armoredKey: HASHICORP_RELEASE_KEY }), openpgp.readKey({ armoredKey: theirs })]);
  assert.equal(ours.getFingerprint(), HASHICORP_RELEASE_KEY_FINGERPRINT);
  assert.equal(their.getFingerprint(), HASHICORP_RELEASE_KEY_FINGERPRINT);
  assert.ok((await ours.getSigningKey()).getFingerprint(), 'the key has a usable signing subkey today');
});

test('a binary planted in the cache is never run: the cache is trusted by the hash recorded at verification', async () => {
  const o = caseOptions('good');
  const first = await locatePacker(o);
  assert.equal(first.source, 'download');
  assert.match(readFileSync(join(o.cacheDir, V, 'packer.sha256'), 'utf8'), /^[0-9a-f]{64}  packer\n$/);
  const marker = join(work, `planted-ran-${++n}`);
  // Reports the right version, as a planted binary would; running it at all leaves the marker.
  writeFileSync(first.path, `#!/bin/sh\ntouch ${marker}\necho "Packer v${V}"\n`);
  const again = await locatePacker(o);
  assert.equal(existsSync(marker), false, 'the planted binary was run');
  assert.equal(again.source, 'download');
  assert.ok(o.lines.some((l) => l.includes('it is not the binary that was verified')), o.lines.join('\n'));
  assert.equal((await locatePacker(o)).source, 'cache', 'the fresh download is trusted again');
});

test('the cache folders are private whatever the umask', async () => {
  const old = process.umask(0);
  try {
    const o = caseOptions('good');
    await locatePacker(o);
    assert.equal(statSync(o.cacheDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(o.cacheDir, V)).mode & 0o777, 0o700);
  } finally {
    process.umask(old);
  }
  // A cache folder others can write to is not trusted.
  const o = caseOptions('good');
  await locatePacker(o);
  chmodSync(join(o.cacheDir, V), 0o777);
  assert.equal((await locatePacker(o)).source, 'download');
  assert.ok(o.lines.some((l) => /is writable by others/.test(l)), o.lines.join('\n'));
});

test('a download larger than the cap is refused and leaves nothing', async () => {
  const o = caseOptions('good', { maxZipBytes: 100 });
  await rejectsWith(locatePacker(o), 'bad-release', /is larger than 100 bytes/);
  assert.deepEqual(readdirSync(o.cacheDir), []);
});

test('a mirror URL password is never echoed', async () => {
  const withPassword = base.replace('http://', 'http://mirror-user:s3cr3t-pw@');
  const o = caseOptions('empty', { baseUrl: `${withPassword}/empty` });
  const e = await rejectsWith(locatePacker(o), e2code());
  assert.doesNotMatch(e.message + o.lines.join('\n'), /s3cr3t-pw/);
  assert.match(e.message, /mirror-user:\*\*\*@/);
});
/** fetch refuses credentials in a URL (network) where a server would answer 404 (not-found): either is fine here. */
function e2code(): string {
  try {
    new Request('http://a:b@127.0.0.1/');
    return 'not-found';
  } catch {
    return 'network';
  }
}
