// A Packer binary of the pinned version, from the cache, from PATH, or downloaded and verified.
//
// @hashicorp/js-releases is wrapped, not trusted whole: its base URL is a constant (no mirrors),
// its OpenPGP verification result is never awaited (a SHA256SUMS signed by any key passes), it
// finds the checksum with `line.includes(name)`, it chmods only the last zip entry (Packer zips
// end with LICENSE.txt), and its unpack resolves before the last file is flushed. What is sound in
// it is used: its zip download (with proxy support) and sha256 helper, HashiCorp's public key
// (copied into ./hashicorp-key.ts, since the package does not export it), the releases layout,
// and yauzl, the zip reader it depends on.
//
// Steps of a download: SHA256SUMS and its detached .sig are fetched, the signature is verified
// (awaited) against the trusted key(s), SHA256SUMS is parsed strictly, the zip is downloaded and
// hashed, its sha256 must equal the signed one, `packer` is extracted and made 0755, its
// `packer version` must report the pinned version, and only then is the version directory renamed
// into the cache (staged in a temp dir inside the cache root, so the rename is atomic).

import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { access, chmod, constants, lstat, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import yauzl from 'yauzl';
// The library's own HTTP helper (axios, honouring HTTP(S)_PROXY, which Node's fetch does not);
// its Release.download streams to a file without any size limit, so the stream is taken here.
import { request as releasesRequest } from '@hashicorp/js-releases/out/utils.js';
import { DiagnosticError, problem } from '../diagnostics/diagnostic.js';
import { EXIT } from '../diagnostics/exit.js';
import { msg, rewordedMessage, type Message } from '../diagnostics/messages.js';
import { createFile } from '../output/private-file.js';
import { HASHICORP_RELEASE_KEY } from './hashicorp-key.js';

import { DEFAULT_RELEASES_URL, PACKER_VERSION, RELEASES_URL_ENV } from './pin.js';

export { DEFAULT_RELEASES_URL, PACKER_VERSION, RELEASES_URL_ENV };

const USER_AGENT = 'kubebake (packer installer)';

/**
 * An expected failure to obtain Packer, as the one error channel has it (diagnostics/diagnostic.ts):
 * a DiagnosticError whose code (packer.*, listed in the catalogue) says what kind of failure it is.
 * A mirror's credentials are hidden from its message and hint.
 */
function packerError(m: Message, cause?: unknown): DiagnosticError {
  return new DiagnosticError([problem(rewordedMessage(m, hideCredentials))], EXIT.invalid, { cause });
}

/** A mirror URL may carry a user and password (https://user:secret@mirror/…): never shown. */
export function hideCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi, '$1:***@');
}

/** A Packer zip is ~30 MB; a server sending far more is not a Packer release (or fills the disk). */
export const MAX_ZIP_BYTES = 256 * 1024 * 1024;
/** Beside the cached binary: its sha256, recorded when the download was verified. */
const HASH_FILE = 'packer.sha256';
const CACHE_DIR_MODE = 0o700;

export interface EnsurePackerOptions {
  /** Exact Packer version; default PACKER_VERSION. */
  version?: string;
  /** Cache root; the binary lives at `<cacheDir>/<version>/packer`. Default
   *  `$XDG_CACHE_HOME/kubebake/packer`, or `~/.cache/kubebake/packer`. */
  cacheDir?: string;
  /** Releases site or mirror; default `$KUBEBAKE_RELEASES_URL`, else DEFAULT_RELEASES_URL. */
  baseUrl?: string;
  /** Armored OpenPGP public key(s) trusted to sign SHA256SUMS; default HashiCorp's release key. */
  trustedKeys?: string | readonly string[];
  /** Environment to read PATH, HOME, XDG_CACHE_HOME and KUBEBAKE_RELEASES_URL from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Look for a `packer` of the exact version on PATH before downloading; default true. */
  usePath?: boolean;
  /** Node platform and arch of the binary wanted; default the running ones. */
  platform?: NodeJS.Platform;
  arch?: string;
  /** HTTP client; default the global fetch. */
  fetch?: typeof fetch;
  /** Progress lines (what was found, what is downloaded); default silent. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Largest zip accepted; default MAX_ZIP_BYTES (tests lower it). */
  maxZipBytes?: number;
}

export type PackerSource = 'cache' | 'path' | 'download';

export interface LocatedPacker {
  path: string;
  version: string;
  source: PackerSource;
}

/** The path of a Packer binary of exactly the pinned version (see locatePacker). */
export async function ensurePacker(opts: EnsurePackerOptions = {}): Promise<string> {
  return (await locatePacker(opts)).path;
}

/**
 * Finds or fetches Packer `version` (default PACKER_VERSION), in this order:
 * 1. the cache, `<cacheDir>/<version>/packer`, if it is an executable file whose `packer version`
 *    reports the version (a broken entry is removed and replaced);
 * 2. each `packer` on PATH, in PATH order, whose `packer version` reports exactly the version.
 *    Exact, not "at least": a different Packer can change HCL semantics and plugin protocol, and
 *    the cache and the download are exact too, so the same templates always meet the same Packer;
 * 3. a download from `<baseUrl>/packer/<version>/`, verified (see the header of this file).
 * Expected failures throw a DiagnosticError (packerError).
 */
export async function locatePacker(opts: EnsurePackerOptions = {}): Promise<LocatedPacker> {
  const env = opts.env ?? process.env;
  const version = opts.version ?? PACKER_VERSION;
  const rawLog = opts.log ?? (() => {});
  const log = (line: string): void => rawLog(hideCredentials(line));
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?$/.test(version)) {
    throw packerError(msg.packerBadVersion(version, PACKER_VERSION));
  }
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const binName = platform === 'win32' ? 'packer.exe' : 'packer';
  const runnable = platform === process.platform && arch === process.arch;
  const cacheRoot = opts.cacheDir ?? defaultCacheDir(env);
  const versionDir = join(cacheRoot, version);
  const cached = join(versionDir, binName);

  // 1. The cache: trusted by the hash recorded when it was verified, never by running it (a
  // planted binary would run with the operator's rights before any check could refuse it).
  if (await exists(versionDir)) {
    const why = await untrustedCache(cacheRoot, versionDir, binName);
    if (!why) return { path: cached, version, source: 'cache' };
    log(`packer ${version}: ignoring the cached ${cached} (${why}); fetching it again`);
    await rm(versionDir, { recursive: true, force: true });
  }

  // 2. PATH.
  if (opts.usePath !== false && runnable) {
    for (const candidate of pathCandidates(env.PATH ?? '', binName)) {
      if (!(await isExecutableFile(candidate))) continue;
      const found = await packerVersionOf(candidate, env);
      if (found === version) {
        log(`packer ${version}: using ${candidate} from PATH`);
        return { path: candidate, version, source: 'path' };
      }
      log(`packer ${version}: ignoring ${candidate} from PATH (${found ? `it is ${found}` : 'its version could not be read'}; kubebake pins ${version})`);
    }
  }

  // 3. Download.
  const target = releaseTarget(platform, arch);
  const baseUrl = releasesUrl(opts.baseUrl ?? env[RELEASES_URL_ENV]);
  const trusted = opts.trustedKeys === undefined ? [HASHICORP_RELEASE_KEY] : typeof opts.trustedKeys === 'string' ? [opts.trustedKeys] : [...opts.trustedKeys];
  const ctx: FetchContext = { fetch: opts.fetch ?? globalThis.fetch, signal: opts.signal, version, baseUrl, mirrored: baseUrl !== DEFAULT_RELEASES_URL, maxZipBytes: opts.maxZipBytes ?? MAX_ZIP_BYTES };
  await fsStep(() => mkdir(cacheRoot, { recursive: true, mode: CACHE_DIR_MODE }), cacheRoot);
  await fsStep(() => chmod(cacheRoot, CACHE_DIR_MODE), cacheRoot); // whatever the umask made of it
  const tmp = await fsStep(() => mkdtemp(join(cacheRoot, `.download-${version}-`)), cacheRoot);
  try {
    const dir = `${baseUrl}/packer/${version}`;
    const sumsName = `packer_${version}_SHA256SUMS`;
    const [sums, sig] = await Promise.all([getBytes(ctx, `${dir}/${sumsName}`, 1 << 20), getBytes(ctx, `${dir}/${sumsName}.sig`, 1 << 16)]);
    await verifyDetachedSignature(sums, sig, trusted, `${dir}/${sumsName}`);
    const checksums = parseSha256Sums(decodeUtf8(sums, sumsName), sumsName);

    const zipName = `packer_${version}_${target.os}_${target.arch}.zip`;
    const expected = checksums.get(zipName);
    if (!expected) {
      throw packerError(msg.packerNoBuild(version, `${target.os}/${target.arch}`, sumsName, zipName));
    }
    const zipPath = join(tmp, zipName);
    log(`packer ${version}: downloading ${dir}/${zipName}`);
    const actual = await download(ctx, `${dir}/${zipName}`, zipPath);
    if (actual !== expected) {
      throw packerError(msg.packerChecksumMismatch(`${zipName} from ${dir}`, actual, sumsName, expected, ctx.mirrored ? baseUrl : undefined, DEFAULT_RELEASES_URL));
    }

    const stage = join(tmp, 'stage');
    await fsStep(() => mkdir(stage, { mode: CACHE_DIR_MODE }), stage);
    await fsStep(() => chmod(stage, CACHE_DIR_MODE), stage);
    await extractFlatZip(zipPath, stage, binName);
    if (runnable) {
      const found = await packerVersionOf(join(stage, binName), env);
      if (found !== version) {
        throw packerError(msg.packerWrongVersion(`the ${binName} in ${zipName}`, found, version));
      }
    }
    // Verified (signed checksum of the zip, and the version it reports): record the binary's hash.
    await fsStep(async () => createFile(join(stage, HASH_FILE), 0o600, `${await fileSha256(join(stage, binName))}  ${binName}\n`, 'rebuildable'), stage);
    await install(stage, versionDir, cacheRoot, binName);
    log(`packer ${version}: installed ${cached}`);
    return { path: cached, version, source: 'download' };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** The `Packer vX.Y.Z` of `<binary> version`, or undefined when it cannot be run or read. */
export function packerVersionOf(binary: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return new Promise((resolve) => {
    // CHECKPOINT_DISABLE: no call home for an update check (slow, and useless air-gapped).
    execFile(binary, ['version'], { env: { ...env, CHECKPOINT_DISABLE: '1' }, timeout: 30_000, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return resolve(undefined);
      resolve(/^Packer v(\S+)/m.exec(String(stdout))?.[1]);
    });
  });
}

/**
 * Parses a SHA256SUMS file: lines `<64 hex>  <filename>` (two spaces, as sha256sum writes),
 * '\n'-separated, an optional final newline. Anything else, and a file named twice, is rejected
 * (a lenient parser lets a crafted line shadow the real one). Returns filename → lower-case hex.
 */
export function parseSha256Sums(text: string, what = 'SHA256SUMS'): Map<string, string> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const sums = new Map<string, string>();
  const bad = (n: number, why: string): DiagnosticError => packerError(msg.packerSumsMalformed(`${what} line ${n}`, why));
  if (lines.length === 0) throw bad(1, 'the file is empty');
  lines.forEach((line, i) => {
    const m = /^([0-9a-fA-F]{64}) {2}([^\s/\\]+)$/.exec(line);
    if (!m) throw bad(i + 1, `expected "<sha256>  <filename>", got ${JSON.stringify(line.slice(0, 120))}`);
    const [, hex, name] = m as unknown as [string, string, string];
    if (sums.has(name)) throw bad(i + 1, `${name} is listed twice`);
    sums.set(name, hex.toLowerCase());
  });
  return sums;
}

/**
 * Verifies a detached OpenPGP signature (binary or armored) over `data` against the trusted
 * armored public keys. At least one signature must verify with a trusted key; each verification
 * is awaited. Throws a DiagnosticError packer.bad-signature (or packer.invalid-option for an unreadable key).
 */
export async function verifyDetachedSignature(data: Uint8Array, signatureBytes: Uint8Array, trustedArmoredKeys: readonly string[], what: string): Promise<void> {
  let keys: openpgp.PublicKey[];
  try {
    keys = await Promise.all(trustedArmoredKeys.map((armoredKey) => openpgp.readKey({ armoredKey })));
  } catch (e) {
    throw packerError(msg.packerKeyUnreadable(errorText(e)), e);
  }
  const failure = (why: string, cause?: unknown): DiagnosticError => packerError(msg.packerBadSignature(what, why), cause);
  let signature: openpgp.Signature;
  try {
    const text = Buffer.from(signatureBytes).toString('latin1');
    signature = text.trimStart().startsWith('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: text })
      : await openpgp.readSignature({ binarySignature: signatureBytes });
  } catch (e) {
    throw failure(`the .sig file is not an OpenPGP signature: ${errorText(e)}`, e);
  }
  let outcomes: PromiseSettledResult<true>[];
  try {
    const message = await openpgp.createMessage({ binary: data });
    const result = await openpgp.verify({ message, signature, verificationKeys: keys, format: 'binary', expectSigned: true });
    outcomes = await Promise.allSettled(result.signatures.map((s) => s.verified));
  } catch (e) {
    throw failure(errorText(e), e);
  }
  if (!outcomes.some((o) => o.status === 'fulfilled' && o.value === true)) {
    const reasons = outcomes.map((o) => (o.status === 'rejected' ? errorText(o.reason) : 'not verified'));
    throw failure(reasons.join('; ') || 'no signature in the .sig file');
  }
}

// ----------------------------------------------------------------------------------------------

interface FetchContext {
  fetch: typeof fetch;
  signal: AbortSignal | undefined;
  version: string;
  baseUrl: string;
  mirrored: boolean;
  maxZipBytes: number;
}

/** HashiCorp's names for the Node platform and arch; unsupported ones throw. */
function releaseTarget(platform: NodeJS.Platform, arch: string): { os: string; arch: string } {
  const os = ({ linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd', openbsd: 'openbsd', netbsd: 'netbsd', sunos: 'solaris' } as Partial<Record<string, string>>)[platform];
  const cpu = ({ x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le' } as Partial<Record<string, string>>)[arch];
  if (!os || !cpu) {
    throw packerError(msg.packerNoPlatform(`${platform}/${arch}`));
  }
  return { os, arch: cpu };
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache');
  return join(base, 'kubebake', 'packer');
}

function releasesUrl(raw: string | undefined): string {
  const value = (raw ?? '').trim() || DEFAULT_RELEASES_URL;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw packerError(msg.packerUrlNotUrl(value, RELEASES_URL_ENV, DEFAULT_RELEASES_URL));
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw packerError(msg.packerUrlNotHttp(value, RELEASES_URL_ENV, DEFAULT_RELEASES_URL));
  }
  return value.replace(/\/+$/, '');
}

function pathCandidates(pathVar: string, binName: string): string[] {
  const seen = new Set<string>();
  return pathVar
    .split(delimiter)
    .filter((d) => d && isAbsolute(d)) // a relative PATH entry would depend on the cwd
    .map((d) => join(d, binName))
    .filter((p) => (seen.has(p) ? false : (seen.add(p), true)));
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    if (!(await stat(p)).isFile()) return false;
    await access(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Why a cache entry is not trusted, or undefined when it is. */
async function untrustedCache(cacheRoot: string, versionDir: string, binName: string): Promise<string | undefined> {
  const uid = process.getuid?.();
  for (const dir of [cacheRoot, versionDir]) {
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return `${dir} is not a folder`;
    if (st.mode & 0o022) return `${dir} is writable by others (mode ${(st.mode & 0o777).toString(8)})`;
    if (uid !== undefined && st.uid !== uid) return `${dir} belongs to another user`;
  }
  const binary = join(versionDir, binName);
  const st = await lstat(binary).catch(() => undefined);
  if (!st?.isFile()) return 'it is not a regular file';
  const recorded = /^([0-9a-f]{64}) /.exec(await readFile(join(versionDir, HASH_FILE), 'utf8').catch(() => ''))?.[1];
  if (!recorded) return 'no hash was recorded when it was verified';
  if ((await fileSha256(binary)) !== recorded) return 'it is not the binary that was verified (its sha256 changed)';
  return undefined;
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

function fsError(e: unknown, where: string): DiagnosticError {
  return packerError(msg.packerCacheUnwritable(where, errorText(e)), e);
}

async function fsStep<T>(fn: () => Promise<T>, where: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fsError(e, where);
  }
}

/** fetch with errors translated; the response is OK (2xx) when it returns. */
async function request(ctx: FetchContext, url: string): Promise<Response> {
  let res: Response;
  try {
    res = await ctx.fetch(url, { signal: ctx.signal, headers: { 'User-Agent': USER_AGENT }, redirect: 'follow' });
  } catch (e) {
    throw networkError(ctx, url, e);
  }
  if (res.ok) return res;
  await res.body?.cancel().catch(() => {});
  if (res.status === 404) throw notFound(ctx, url);
  throw packerError(msg.packerHttpStatus(url, res.status, res.statusText));
}

function notFound(ctx: FetchContext, url: string): DiagnosticError {
  return packerError(msg.packerNotFound(url, ctx.version, ctx.mirrored ? ctx.baseUrl : undefined, DEFAULT_RELEASES_URL));
}

function networkError(ctx: FetchContext, url: string, e: unknown): DiagnosticError {
  if (ctx.signal?.aborted) return packerError(msg.packerInterrupted(ctx.version), e);
  const cause = e instanceof Error && e.cause instanceof Error ? `${e.message}: ${errorText(e.cause)}` : errorText(e);
  return packerError(msg.packerUnreachable(url, cause, ctx.version, RELEASES_URL_ENV, DEFAULT_RELEASES_URL), e);
}

async function getBytes(ctx: FetchContext, url: string, limit: number): Promise<Uint8Array> {
  const res = await request(ctx, url);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)) {
      size += (chunk as Buffer).length;
      if (size > limit) throw packerError(msg.packerTooLarge(url, limit));
      chunks.push(chunk as Buffer);
    }
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    throw networkError(ctx, url, e);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Streams `url` into `file`; returns its sha256 (hex). */
/**
 * The zip itself goes through @hashicorp/js-releases (its download honours HTTP(S)_PROXY, which
 * Node's fetch does not) and its sha256 helper; the checksum it is compared with is the one from
 * the SHA256SUMS whose signature was verified above, not the library's unawaited check.
 */
async function download(ctx: FetchContext, url: string, file: string): Promise<string> {
  const hash = createHash('sha256');
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > ctx.maxZipBytes) return done(packerError(msg.packerTooLarge(url, ctx.maxZipBytes)));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    const body = await releasesRequest<Readable>(url, { headers: { 'User-Agent': USER_AGENT }, responseType: 'stream', signal: ctx.signal, maxContentLength: ctx.maxZipBytes });
    await pipeline(body, cap, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    // axios refuses early when Content-Length already says too much.
    if (/maxContentLength/.test(String((e as Error)?.message))) throw packerError(msg.packerTooLarge(url, ctx.maxZipBytes));
    if ((e as NodeJS.ErrnoException).syscall && !(e as { isAxiosError?: boolean }).isAxiosError) throw fsError(e, file);
    const status = (e as { response?: { status?: number } }).response?.status;
    if (status === 404) throw notFound(ctx, url);
    if (status) throw packerError(msg.packerHttpStatus(url, status));
    throw networkError(ctx, url, e);
  }
  return hash.digest('hex');
}

/**
 * Extracts the top-level files of a zip into `dest`: `binName` with mode 0755, the others 0644.
 * Directory entries and nested paths are skipped (Packer zips are flat); names that repeat or
 * try to leave `dest` are rejected, as is a zip without `binName`. Each file is fully written
 * before the next entry is read, so everything is on disk when this resolves.
 */
function extractFlatZip(zipPath: string, dest: string, binName: string): Promise<void> {
  const bad = (why: string, cause?: unknown): DiagnosticError => packerError(msg.packerZipUnusable(why), cause);
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true, autoClose: true, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return reject(bad(errorText(err)));
      const seen = new Set<string>();
      let failed = false;
      const fail = (e: DiagnosticError): void => {
        if (failed) return;
        failed = true;
        zip.close();
        reject(e);
      };
      zip.on('error', (e: unknown) => fail(bad(errorText(e), e)));
      zip.on('entry', (entry: yauzl.Entry) => {
        const name = entry.fileName;
        if (name.endsWith('/') || name.includes('/') || name.includes('\\')) return zip.readEntry();
        if (name === '.' || name === '..' || name === '') return fail(bad(`invalid entry name ${JSON.stringify(name)}`));
        if (seen.has(name)) return fail(bad(`${name} appears twice`));
        seen.add(name);
        zip.openReadStream(entry, (e2, stream) => {
          if (e2 || !stream) return fail(bad(errorText(e2), e2));
          const target = join(dest, name);
          const mode = name === binName ? 0o755 : 0o644;
          pipeline(stream, createWriteStream(target, { flags: 'wx', mode }))
            .then(() => chmod(target, mode)) // explicit: the create mode is subject to the umask
            .then(() => zip.readEntry())
            .catch((e3: unknown) => fail(bad(errorText(e3), e3)));
        });
      });
      zip.on('end', () => {
        if (failed) return;
        if (!seen.has(binName)) return fail(bad(`it contains no ${binName}`));
        resolve();
      });
      zip.readEntry();
    });
  });
}

/** Renames the staged version directory into the cache; a valid concurrent install wins. */
async function install(stage: string, versionDir: string, cacheRoot: string, binName: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(stage, versionDir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt === 0 && (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR')) {
        // Another kubebake finished first, or a broken leftover is in the way.
        if (!(await untrustedCache(cacheRoot, versionDir, binName))) return;
        await fsStep(() => rm(versionDir, { recursive: true, force: true }), versionDir);
        continue;
      }
      throw fsError(e, versionDir);
    }
  }
}

function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw packerError(msg.packerNotText(what));
  }
}

function errorText(e: unknown): string {
  if (e instanceof Error) return (e as NodeJS.ErrnoException).code && !e.message.includes(String((e as NodeJS.ErrnoException).code)) ? `${(e as NodeJS.ErrnoException).code}: ${e.message}` : e.message;
  return String(e);
}
