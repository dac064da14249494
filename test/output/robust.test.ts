// `render cloud-init` when things go wrong: killed part-way, run twice at once, links planted in
// the output, a tampered ledger, umask 000, a full or read-only disk. The rule throughout: a
// plain re-run succeeds and leaves exactly the tree a clean render gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { runKubebake } from '../helpers/cli.js';
import { repoPath } from '../helpers/repo.js';
import { withTempDir } from '../helpers/tmp.js';

const BIN = repoPath('bin', 'kubebake.js');

/** The HA profile with `workers` workers; `variant` B drops the last 20 and moves an ingress port. */
function topology(workers: number, variant: 'A' | 'B' = 'A', name = 'robust'): string {
  const doc = parse(readFileSync(repoPath('profiles', 'ubuntu-26-04-ha.yaml'), 'utf8'));
  doc.name = name;
  doc.network.nodeSubnet = '10.30.0.0/20';
  doc.network.podSubnet = '10.128.0.0/14';
  const n = variant === 'A' ? workers : workers - 20;
  doc.hosts = [
    ...[1, 2, 3].map((i) => ({ name: `cp${i}`, role: 'control-plane', ip: `10.30.0.${10 + i}` })),
    ...Array.from({ length: n }, (_, i) => ({ name: `worker${i + 1}`, role: 'worker', ip: `10.30.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` })),
    { name: 'lb1', role: 'load-balancer', ip: '10.30.0.8', interface: 'ens18' },
    { name: 'lb2', role: 'load-balancer', ip: '10.30.0.9', interface: 'ens18' },
  ];
  if (variant === 'B' && doc.ingress?.[0]) doc.ingress[0].port = 8443;
  return stringify(doc);
}

/** Every entry under `dir` except the secrets store: path → kind, mode, content hash (the ledger: present, mode only). */
function picture(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    const rel = relative(dir, path);
    if (rel === 'secrets' || rel.startsWith('secrets/')) continue;
    const st = lstatSync(path);
    const mode = (st.mode & 0o7777).toString(8);
    if (e.isSymbolicLink()) out.set(rel, `link ${readlinkSync(path)}`);
    else if (e.isDirectory()) out.set(rel, `dir ${mode}`);
    else if (rel === '.kubebake-manifest.json') out.set(rel, `ledger ${mode}`);
    else out.set(rel, `file ${mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The tree a clean render of `file` gives with the same secrets as `out/<name>`. */
function cleanPicture(file: string, out: string, name: string, scratch: string): Map<string, string> {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(join(scratch, name), { recursive: true, mode: 0o700 });
  if (existsSync(join(out, name, 'secrets'))) cpSync(join(out, name, 'secrets'), join(scratch, name, 'secrets'), { recursive: true });
  const r = runKubebake(['render', 'cloud-init', '-f', file, '-o', scratch]);
  assert.equal(r.status, 0, r.stderr);
  return picture(join(scratch, name));
}

function render(file: string, out: string, env?: NodeJS.ProcessEnv) {
  return runKubebake(['render', 'cloud-init', '-f', file, '-o', out], env && { ...process.env, ...env });
}

/** Starts a render (in the background) and, if asked, sends it `kill.signal` after `kill.delayMs`; resolves with its exit status. */
function startRender(file: string, out: string, kill?: { signal: NodeJS.Signals; delayMs: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'render', 'cloud-init', '-f', file, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = kill && setTimeout(() => child.kill(kill.signal), kill.delayMs);
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stderr });
    });
  });
}

/** Topology files for versions A and B of one cluster with `workers` workers. */
function twoVersions(tmp: string, workers: number): { A: string; B: string } {
  const files = { A: join(tmp, 'a.yaml'), B: join(tmp, 'b.yaml') };
  writeFileSync(files.A, topology(workers, 'A'));
  writeFileSync(files.B, topology(workers, 'B'));
  return files;
}

test('kill loop: after SIGKILL, SIGINT or SIGTERM at random points, a plain re-run gives exactly the clean tree; SIGINT/SIGTERM exit 130/143 with an old or new tree, never a mixed one', { timeout: 600_000 }, async () => {
  await withTempDir(async (tmp) => {
    // 150 workers: a render long enough to be hit while writing, 32 of them within the bound on a loaded machine.
    const files = twoVersions(tmp, 150);
    const out = join(tmp, 'out');
    const dir = join(out, 'robust');
    const t0 = Date.now();
    assert.equal(render(files.A, out).status, 0);
    const renderMs = Date.now() - t0;
    const refs = { A: cleanPicture(files.A, out, 'robust', join(tmp, 'ref')), B: cleanPicture(files.B, out, 'robust', join(tmp, 'ref')) };
    assert.deepEqual(picture(dir), refs.A);
    let current: 'A' | 'B' = 'A';
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const ROUNDS = 15;
    let interruptedWhileWriting = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const next: 'A' | 'B' = current === 'A' ? 'B' : 'A';
      const signal = (['SIGKILL', 'SIGINT', 'SIGTERM'] as const)[round % 3]!;
      // Aim around the write phase, which is the second half of a render.
      const delay = Math.floor(renderMs * (0.35 + 0.75 * random()));
      const killed = await startRender(files[next], out, { signal, delayMs: delay });
      const seen = picture(dir);
      const mixed = ![refs.A, refs.B].some((r) => JSON.stringify([...r]) === JSON.stringify([...seen]));
      if (mixed) interruptedWhileWriting++;
      if (signal !== 'SIGKILL') {
        // Handled: exit 130/143 (or 0 if it had finished); before the handler exists Node dies of the signal.
        const code = signal === 'SIGINT' ? 130 : 143;
        assert.ok(killed.code === code || killed.code === 0 || killed.signal === signal, `round ${round}: ${killed.code} ${killed.signal} ${killed.stderr}`);
        assert.ok(!mixed, `round ${round}: ${signal} left a mixed tree`);
      }
      // The recovery rule: the plain re-run of either version succeeds and gives its clean tree.
      const rerun: 'A' | 'B' = random() < 0.5 ? next : current;
      const r = render(files[rerun], out);
      assert.equal(r.status, 0, `round ${round} (${signal} after ${delay} ms): ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /edited|not written by kubebake/);
      assert.deepEqual(picture(dir), refs[rerun], `round ${round}: re-run of ${rerun} after ${signal} at ${delay} ms`);
      current = rerun;
    }
    // Not an assertion on timing luck, only a note that the loop did hit the write phase.
    process.stdout.write(`# kill loop: ${ROUNDS} rounds, ${interruptedWhileWriting} left a half-written tree that the re-run repaired\n`);
  });
});

test('two renders into one cluster folder at once: both succeed one after the other, the tree is one clean render', { timeout: 300_000 }, async () => {
  await withTempDir(async (tmp) => {
    const files = twoVersions(tmp, 120);
    const out = join(tmp, 'out');
    const results = await Promise.all([startRender(files.A, out), startRender(files.B, out), startRender(files.A, out)]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const seen = picture(join(out, 'robust'));
    const refs = [cleanPicture(files.A, out, 'robust', join(tmp, 'ref')), cleanPicture(files.B, out, 'robust', join(tmp, 'ref'))];
    assert.ok(refs.some((r) => JSON.stringify([...r]) === JSON.stringify([...seen])), 'the tree is one clean render, not a mix');
    assert.ok(!existsSync(join(out, 'robust', '.kubebake-lock')), 'the lock is released');
  });
});

test('a live lock makes a render fail with a clear message after waiting; a dead owner\'s lock is taken over', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'c.yaml');
    writeFileSync(file, topology(5));
    const out = join(tmp, 'out');
    assert.equal(render(file, out).status, 0);
    const lock = join(out, 'robust', '.kubebake-lock');
    const host = (await import('node:os')).hostname();
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host, started: '2026-01-01T00:00:00Z', nonce: 'aa' }));
    const busy = render(file, out, { KUBEBAKE_LOCK_WAIT_SECONDS: '0' });
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, new RegExp(`another kubebake \\(pid ${process.pid} on .*\\) is writing into this folder; its lock is ${lock.replace(/[.]/g, '\\.')}`));
    assert.match(busy.stderr, /hint: wait for it to finish/);
    const dead = spawnSync('true');
    writeFileSync(lock, JSON.stringify({ pid: dead.pid, host, started: '2026-01-01T00:00:00Z', nonce: 'bb' }));
    const r = render(file, out, { KUBEBAKE_LOCK_WAIT_SECONDS: '0' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!existsSync(lock));
  });
});

test('links planted in the output are never written through, and removal never leaves the folder', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'l.yaml');
    writeFileSync(file, topology(25, 'A'));
    const out = join(tmp, 'out');
    const dir = join(out, 'robust');
    const outside = join(tmp, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim'), 'keep me\n');
    // Before the first render: a link at a file's final name, and at the old fixed temp name.
    mkdirSync(join(dir, 'hosts', 'cp1'), { recursive: true });
    symlinkSync(join(outside, 'victim'), join(dir, 'hosts', 'cp1', 'user-data'));
    symlinkSync(join(outside, 'victim'), join(dir, 'hosts', 'cp1', 'user-data.kubebake-tmp'));
    const first = render(file, out);
    assert.equal(first.status, 1);
    assert.match(first.stderr, /hosts\/cp1\/user-data is a symbolic link; kubebake writes only regular files/);
    const forced = runKubebake(['render', 'cloud-init', '-f', file, '-o', out, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(readFileSync(join(outside, 'victim'), 'utf8'), 'keep me\n', 'the link target is untouched');
    assert.ok(lstatSync(join(dir, 'hosts', 'cp1', 'user-data')).isFile(), '--force replaced the link itself');
    assert.doesNotMatch(readFileSync(join(dir, 'hosts', 'cp1', 'user-data'), 'utf8'), /keep me/);

    // A folder swapped for a link to outside: refused, even with --force.
    rmSync(join(dir, 'hosts', 'cp2'), { recursive: true });
    symlinkSync(outside, join(dir, 'hosts', 'cp2'));
    for (const extra of [[], ['--force']]) {
      const r = runKubebake(['render', 'cloud-init', '-f', file, '-o', out, ...extra]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /hosts\/cp2 is a symbolic link; kubebake never writes through links/);
    }
    assert.deepEqual(readdirSync(outside), ['victim']);
    rmSync(join(dir, 'hosts', 'cp2'));

    // A removed host whose folder became a link: its files outside stay.
    assert.equal(render(file, out).status, 0);
    rmSync(join(dir, 'hosts', 'worker25'), { recursive: true });
    mkdirSync(join(outside, 'w25'));
    for (const f of ['user-data', 'meta-data', 'network-config']) writeFileSync(join(outside, 'w25', f), 'outside\n');
    symlinkSync(join(outside, 'w25'), join(dir, 'hosts', 'worker25'));
    writeFileSync(file, topology(24, 'A'));
    const r = render(file, out);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(join(outside, 'w25')).sort(), ['meta-data', 'network-config', 'user-data']);
  });
});

test('a tampered ledger cannot make a render delete or replace anything outside the output', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'm.yaml');
    writeFileSync(file, topology(5));
    const out = join(tmp, 'out');
    assert.equal(render(file, out).status, 0);
    const victim = join(tmp, 'x');
    writeFileSync(victim, 'precious\n');
    const hash = createHash('sha256').update('precious\n').digest('hex');
    const ledgerPath = join(out, 'robust', '.kubebake-manifest.json');
    const m = JSON.parse(readFileSync(ledgerPath, 'utf8'));
    m.files['../../x'] = { sha256: hash };
    m.files[victim] = { sha256: hash };
    m.files['hosts//x'] = { sha256: hash };
    writeFileSync(ledgerPath, JSON.stringify(m));
    const r = render(file, out);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.match(r.stderr, /lists 3 path\(s\) kubebake never writes \("\.\.\/\.\.\/x"/);
    assert.ok(!readFileSync(ledgerPath, 'utf8').includes('../'), 'the next ledger has only real entries');
  });
});

test('under umask 000 nothing is world-writable; folders holding user-data are private', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'u.yaml');
    writeFileSync(file, topology(5));
    const out = join(tmp, 'out');
    const r = spawnSync('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, BIN, 'render', 'cloud-init', '-f', file, '-o', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const dir = join(out, 'robust');
    for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      const path = join(e.parentPath, e.name);
      const mode = lstatSync(path).mode & 0o777;
      assert.equal(mode & 0o002, 0, `${relative(dir, path)} is world-writable (${mode.toString(8)})`);
      if (e.isFile() && e.name === 'user-data') {
        assert.equal(mode, 0o600, path);
        assert.equal(lstatSync(e.parentPath).mode & 0o777, 0o700, e.parentPath);
      }
    }
    assert.equal(lstatSync(dir).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(dir, 'hosts')).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(dir, 'haproxy')).mode & 0o777, 0o755);
    assert.equal(lstatSync(join(dir, '.kubebake-manifest.json')).mode & 0o777, 0o644);
    assert.equal(lstatSync(join(dir, 'secrets')).mode & 0o777, 0o700);
    assert.equal(lstatSync(join(out)).mode & 0o002, 0, 'the output root too');
  });
});

test('a re-render of unchanged input touches nothing; removing a host removes its folder', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'r.yaml');
    writeFileSync(file, topology(10));
    const out = join(tmp, 'out');
    const dir = join(out, 'robust');
    assert.equal(render(file, out).status, 0);
    const stamp = (): string[] =>
      readdirSync(dir, { recursive: true, withFileTypes: true }).map((e) => {
        const st = lstatSync(join(e.parentPath, e.name), { bigint: true });
        return `${relative(dir, join(e.parentPath, e.name))} ${st.ino} ${st.mtimeNs} ${st.ctimeNs} ${st.mode}`;
      });
    const before = stamp().sort();
    const again = render(file, out);
    assert.equal(again.status, 0);
    assert.match(again.stdout, /0 written, \d+ unchanged/);
    assert.deepEqual(stamp().sort(), before, 'no file or folder was written, replaced or re-moded');
    writeFileSync(file, topology(9));
    const r = render(file, out);
    assert.equal(r.status, 0);
    // Its seed (user-data, user-data.gz, meta-data, network-config, seed.iso, seed.tar) and its delivery
    // recipes (vSphere .vmx and govc script, three Proxmox snippets and the qm script, the virt-install script).
    assert.match(r.stdout, /13 removed/);
    assert.ok(!existsSync(join(dir, 'hosts', 'worker10')), 'the removed host\'s folder is gone');
    assert.ok(!readdirSync(dir, { recursive: true }).some((p) => String(p).includes('worker10')), 'nothing of worker10 is left');
    // A hand edit is still seen although the ledger lets untouched files skip reading.
    appendFileSync(join(dir, 'hosts', 'worker9', 'meta-data'), '# mine\n');
    const edited = render(file, out);
    assert.equal(edited.status, 1);
    assert.match(edited.stderr, /worker9\/meta-data was edited since kubebake wrote it/);
  });
});

test('I/O failures are diagnostics naming the path and the cause, exit 1', async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'io.yaml');
    writeFileSync(file, topology(5));
    const notAFolder = join(tmp, 'plain-file');
    writeFileSync(notAFolder, 'x');
    const r = render(file, notAFolder);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${notAFolder.replace(/[.]/g, '\\.')}(/robust)?: a part of the path is a file, not a folder`));
    assert.doesNotMatch(r.stderr, /internal error/);
    // Permission denied needs a user the folder refuses: as root, run as nobody — when nobody can
    // read this checkout at all (a clone inside a 0700 folder cannot be run by anyone else).
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    if (process.getuid?.() === 0 && spawnSync('setpriv', [...asNobody, 'test', '-r', BIN]).status === 0) {
      chmodSync(tmp, 0o755);
      chmodSync(file, 0o644);
      const locked = join(tmp, 'root-only');
      mkdirSync(locked, { mode: 0o755 });
      const denied = spawnSync('setpriv', [...asNobody, process.execPath, BIN, 'render', 'cloud-init', '-f', file, '-o', locked], { encoding: 'utf8' });
      assert.equal(denied.status, 1, denied.stderr);
      assert.match(denied.stderr, new RegExp(`cannot write ${locked}/robust: permission denied`));
      assert.match(denied.stderr, /hint: check the owner and mode of the folder/);
    }
  });
});

const rootSkip = process.getuid?.() !== 0 ? 'needs root (a private mount namespace with a small tmpfs)' : spawnSync('unshare', ['--mount', 'true']).status !== 0 ? 'unshare --mount does not work here' : false;

test('a full disk and a read-only file system: exit 1 naming the path and cause; after space is freed a plain re-run gives the clean tree', { skip: rootSkip, timeout: 120_000 }, async () => {
  await withTempDir(async (tmp) => {
    const file = join(tmp, 'full.yaml');
    writeFileSync(file, topology(60));
    const mnt = join(tmp, 'mnt');
    mkdirSync(mnt);
    const results = join(tmp, 'results');
    mkdirSync(results);
    // All in one private mount namespace: a tmpfs too small for the tree, then enlarged; then read-only.
    const script = `
      set -u
      mount -t tmpfs -o size=400k tmpfs "$MNT"
      "$NODE" "$BIN" render cloud-init -f "$FILE" -o "$MNT/out" > "$R/1.out" 2> "$R/1.err"; echo $? > "$R/1.rc"
      mount -o remount,size=64m tmpfs "$MNT"
      "$NODE" "$BIN" render cloud-init -f "$FILE" -o "$MNT/out" > "$R/2.out" 2> "$R/2.err"; echo $? > "$R/2.rc"
      cp -a "$MNT/out" "$R/tree"
      mount -o remount,ro tmpfs "$MNT"
      "$NODE" "$BIN" render cloud-init -f "$FILE_B" -o "$MNT/out" > "$R/3.out" 2> "$R/3.err"; echo $? > "$R/3.rc"
    `;
    const fileB = join(tmp, 'full-b.yaml');
    writeFileSync(fileB, topology(60, 'B'));
    const env = { ...process.env, MNT: mnt, NODE: process.execPath, BIN, FILE: file, FILE_B: fileB, R: results };
    const u = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { env, encoding: 'utf8' });
    assert.equal(u.status, 0, u.stderr);
    const rc = (n: number) => readFileSync(join(results, `${n}.rc`), 'utf8').trim();
    const err = (n: number) => readFileSync(join(results, `${n}.err`), 'utf8');
    assert.equal(rc(1), '1', err(1));
    assert.match(err(1), /: no space left on the device/);
    assert.match(err(1), /hint: free space/);
    assert.doesNotMatch(err(1), /internal error/);
    assert.equal(rc(2), '0', err(2));
    assert.doesNotMatch(err(2), /edited|not written by kubebake/);
    assert.deepEqual(picture(join(results, 'tree', 'robust')), cleanPicture(file, join(results, 'tree'), 'robust', join(tmp, 'ref')));
    assert.equal(rc(3), '1', err(3));
    assert.match(err(3), /the file system is read-only/);
  });
});
