// The writer on its own: what counts as ours, what is a conflict, what an old ledger means.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileDigest, fileDigest } from '../../src/output/file-digest.js';
import { FileTree, held, isTreePath, zeros } from '../../src/output/tree.js';
import { LEDGER_FILE } from '../../src/output/ledger.js';
import { writeTree } from '../../src/output/write.js';
import { withTempDir } from '../helpers/tmp.js';

const tree = (files: Record<string, string>): FileTree => {
  const t = new FileTree();
  for (const [p, c] of Object.entries(files)) t.add(p, c, p.endsWith('user-data') ? 0o600 : 0o644);
  return t;
};

test('a file already equal to the new content is never a conflict, ledger or not', async () => {
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, 'hosts', 'a'), { recursive: true });
    writeFileSync(join(dir, 'hosts', 'a', 'user-data'), 'same\n');
    writeFileSync(join(dir, 'hosts', 'a', 'meta-data'), 'other\n');
    const r = await writeTree(dir, tree({ 'hosts/a/user-data': 'same\n', 'hosts/a/meta-data': 'new\n' }));
    assert.ok('diagnostics' in r);
    assert.deepEqual(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [`${join(dir, 'hosts/a/meta-data')} was not written by kubebake; kubebake will not replace it`]);
    writeFileSync(join(dir, 'hosts', 'a', 'meta-data'), 'new\n');
    const ok = await writeTree(dir, tree({ 'hosts/a/user-data': 'same\n', 'hosts/a/meta-data': 'new\n' }));
    assert.ok('written' in ok);
    assert.deepEqual(ok.unchanged.sort(), ['hosts/a/meta-data', 'hosts/a/user-data']);
    assert.equal(statSync(join(dir, 'hosts', 'a', 'user-data')).mode & 0o777, 0o600, 'the mode is set even on an unchanged file');
  });
});

test('a ledger of the previous format (path → sha256) is understood', async () => {
  await withTempDir(async (dir) => {
    mkdirSync(join(dir, 'haproxy'));
    writeFileSync(join(dir, 'haproxy', 'haproxy.cfg'), 'old\n');
    writeFileSync(join(dir, 'haproxy', 'haproxy.cfg.kubebake-tmp'), 'leftover of an old run\n');
    const sha = createHash('sha256').update('old\n').digest('hex');
    writeFileSync(join(dir, LEDGER_FILE), JSON.stringify({ generator: 'kubebake', files: { 'haproxy/haproxy.cfg': sha } }));
    const r = await writeTree(dir, tree({ 'haproxy/haproxy.cfg': 'new\n' }));
    assert.ok('written' in r, JSON.stringify(r));
    assert.equal(readFileSync(join(dir, 'haproxy', 'haproxy.cfg'), 'utf8'), 'new\n');
    assert.throws(() => statSync(join(dir, 'haproxy', 'haproxy.cfg.kubebake-tmp')), 'the old fixed-name temp file is cleaned up');
    const m = JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8'));
    assert.equal(m.version, 2);
    assert.equal(m.complete, true);
    assert.deepEqual(Object.keys(m.files), ['haproxy/haproxy.cfg']);
  });
});

test('only paths kubebake could have written are tree paths', () => {
  for (const p of ['hosts/a/user-data', 'admin.conf', 'keepalived/lb1.conf']) assert.ok(isTreePath(p), p);
  for (const p of ['', '/etc/passwd', '../x', 'a/../b', 'a//b', './a', 'a/.', 'a\\b', 'a\0b', '.kubebake-manifest.json', '.kubebake-lock']) assert.ok(!isTreePath(p), JSON.stringify(p));
});

test('--check (dryRun) reports what a render would do and writes nothing', async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, 'out');
    const r = await writeTree(out, tree({ 'a/user-data': 'x\n' }), { dryRun: true });
    assert.ok('written' in r);
    assert.deepEqual(r.written, ['a/user-data']);
    assert.throws(() => statSync(out));
  });
});

test('files that share a content (a host\'s user-data in hosts/ and pxe/) each get it, with their own mode; an edit to one is seen', async () => {
  await withTempDir(async (dir) => {
    const shared = 'runtime\n'.repeat(1000);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const t = new FileTree();
    for (const h of ['a', 'b', 'c']) t.add(`hosts/${h}/vendor-data`, shared).add(`hosts/${h}/blob`, bytes).add(`hosts/${h}/user-data`, `only ${h}\n`, 0o600);
    t.add('hosts/d/vendor-data', shared, 0o600); // the same content, another mode
    const r = await writeTree(dir, t);
    assert.ok('written' in r);
    const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const ledger = JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8')) as { files: Record<string, { sha256: string }> };
    for (const f of t.files()) {
      assert.deepEqual(readFileSync(join(dir, f.path)), Buffer.from(held(f)), f.path);
      assert.equal(statSync(join(dir, f.path)).mode & 0o777, f.mode, f.path);
      assert.equal(ledger.files[f.path]!.sha256, sha(held(f)), f.path);
    }
    writeFileSync(join(dir, 'hosts/b/vendor-data'), 'edited\n');
    const again = await writeTree(dir, t);
    assert.ok('diagnostics' in again);
    assert.deepEqual(again.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [`${join(dir, 'hosts/b/vendor-data')} was edited since kubebake wrote it; kubebake will not replace it`]);
  });
});

test('a built file (an ISO, a tar) is built when written, chunk by chunk, and is held by nothing; re-renders compare it; an edit to it is seen', async () => {
  await withTempDir(async (dir) => {
    const calls = { iso: 0, tar: 0 };
    const make = (v: string): FileTree =>
      new FileTree()
        .add('hosts/a/user-data', `user ${v}\n`, 0o600)
        // A synchronous builder of one chunk (the ISO's) and an asynchronous one of several (the tar's).
        .addBuilt('hosts/a/seed.iso', () => (calls.iso++, [Buffer.from(`iso ${v}\n`)]), 0o600)
        .addBuilt('seeds.tar', async function* () {
          calls.tar++;
          for (const part of ['tar ', v, '\n']) yield Buffer.from(part);
        }, 0o640);
    const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
    const ledger = (): Record<string, { sha256?: string }> => (JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8')) as { files: Record<string, { sha256?: string }> }).files;

    const first = await writeTree(dir, make('1'));
    assert.ok('written' in first);
    assert.deepEqual({ ...calls }, { iso: 1, tar: 1 }, 'a file the run creates is built once, as it is written');
    assert.equal(readFileSync(join(dir, 'hosts/a/seed.iso'), 'utf8'), 'iso 1\n');
    assert.equal(readFileSync(join(dir, 'seeds.tar'), 'utf8'), 'tar 1\n', 'every chunk, in order');
    assert.equal(statSync(join(dir, 'hosts/a/seed.iso')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'seeds.tar')).mode & 0o777, 0o640);
    assert.equal(ledger()['seeds.tar']!.sha256, sha('tar 1\n'), 'the ledger has the hash of the bytes written');

    const same = await writeTree(dir, make('1'));
    assert.ok('written' in same);
    assert.deepEqual(same.unchanged.sort(), ['hosts/a/seed.iso', 'hosts/a/user-data', 'seeds.tar']);
    assert.deepEqual({ ...calls }, { iso: 2, tar: 2 }, 'an unchanged re-render builds each once, to compare it');

    const changed = await writeTree(dir, make('2'));
    assert.ok('written' in changed);
    assert.deepEqual(changed.written.sort(), ['hosts/a/seed.iso', 'hosts/a/user-data', 'seeds.tar']);
    assert.equal(readFileSync(join(dir, 'seeds.tar'), 'utf8'), 'tar 2\n');
    assert.equal(ledger()['hosts/a/seed.iso']!.sha256, sha('iso 2\n'));

    writeFileSync(join(dir, 'hosts/a/seed.iso'), 'edited\n');
    const edited = await writeTree(dir, make('3'));
    assert.ok('diagnostics' in edited);
    assert.deepEqual(edited.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [`${join(dir, 'hosts/a/seed.iso')} was edited since kubebake wrote it; kubebake will not replace it`]);

    const failing = new FileTree().addBuilt('broken.iso', () => {
      throw new Error('the builder failed');
    });
    await assert.rejects(writeTree(join(dir, 'other'), failing), /the builder failed/, 'a builder\'s bug is not an I/O diagnostic');
  });
});

test('a built file with a key is not built again while the file is as last written under that key; a new key, a touched file or an old ledger builds it', async () => {
  await withTempDir(async (dir) => {
    let builds = 0;
    const make = (content: string, key: string): FileTree =>
      new FileTree().add('hosts/a/meta-data', 'meta\n').addBuilt('hosts/a/seed.iso', () => (builds++, [Buffer.from(content)]), 0o600, key);
    const ledger = (): { files: Record<string, { key?: string }> } => JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8')) as { files: Record<string, { key?: string }> };
    const write = async (t: FileTree): Promise<{ written: string[]; unchanged: string[] }> => {
      const r = await writeTree(dir, t);
      assert.ok('written' in r, JSON.stringify(r));
      // File times tick in jiffies: a file as new as the ledger is not trusted (as git's racy
      // entries). A real render's files are older than its ledger; make these so too.
      const later = new Date(Date.now() + 2000);
      utimesSync(join(dir, LEDGER_FILE), later, later);
      return r;
    };

    await write(make('iso 1\n', 'k1'));
    assert.equal(builds, 1);
    assert.equal(ledger().files['hosts/a/seed.iso']!.key, 'k1');
    assert.deepEqual((await write(make('iso 1\n', 'k1'))).unchanged.sort(), ['hosts/a/meta-data', 'hosts/a/seed.iso']);
    assert.equal(builds, 1, 'same key, same stat: not built');

    // A new key: built, compared, written.
    assert.deepEqual((await write(make('iso 2\n', 'k2'))).written, ['hosts/a/seed.iso']);
    assert.equal(builds, 3, 'built to compare, then to write');
    assert.equal(readFileSync(join(dir, 'hosts/a/seed.iso'), 'utf8'), 'iso 2\n');

    // The same bytes written again by hand (a new inode and mtime): the key is not trusted, the bytes are compared.
    writeFileSync(join(dir, 'x'), 'iso 2\n');
    renameSync(join(dir, 'x'), join(dir, 'hosts/a/seed.iso'));
    assert.deepEqual((await write(make('iso 2\n', 'k2'))).unchanged.sort(), ['hosts/a/meta-data', 'hosts/a/seed.iso']);
    assert.equal(builds, 4);
    assert.deepEqual((await write(make('iso 2\n', 'k2'))).unchanged.length, 2);
    assert.equal(builds, 4, 'the stat it found is recorded: the next run trusts the key again');

    // A ledger from before keys: the file is built once to compare, and the key is written down.
    const m = ledger();
    delete m.files['hosts/a/seed.iso']!.key;
    writeFileSync(join(dir, LEDGER_FILE), JSON.stringify(m));
    await write(make('iso 2\n', 'k2'));
    assert.equal(builds, 5);
    assert.equal(ledger().files['hosts/a/seed.iso']!.key, 'k2', 'an unchanged run still records the key');
    await write(make('iso 2\n', 'k2'));
    assert.equal(builds, 5);
  });
});

test('a zero chunk is left as a hole: the file reads back the same bytes on fewer blocks, and its digest counts trailing zeros instead of hashing them', async () => {
  await withTempDir(async (dir) => {
    const PAD = 256 * 1024;
    // Small chunks (gathered into larger writes), a hole between them, small chunks again.
    const small = (from: number, n: number): Buffer[] => Array.from({ length: n }, (_, k) => Buffer.alloc(512, (from + k) % 250 + 1));
    const many = [...small(0, 300), zeros(PAD), ...small(300, 10)];
    const t = new FileTree()
      .addBuilt('hosts/a/seed.iso', () => [Buffer.from('volume'), zeros(PAD)], 0o600)
      .addBuilt('middle.bin', () => [Buffer.from('a'), zeros(PAD), Buffer.from('b')])
      .addBuilt('many.bin', () => many);
    const r = await writeTree(dir, t);
    assert.ok('written' in r, JSON.stringify(r));
    const iso = join(dir, 'hosts/a/seed.iso');
    const expected = Buffer.concat([Buffer.from('volume'), Buffer.alloc(PAD)]);
    assert.deepEqual(readFileSync(iso), expected);
    assert.deepEqual(readFileSync(join(dir, 'middle.bin')), Buffer.concat([Buffer.from('a'), Buffer.alloc(PAD), Buffer.from('b')]));
    assert.ok(readFileSync(join(dir, 'many.bin')).equals(Buffer.concat(many)), 'every small chunk at its place, the hole between them');
    assert.ok(statSync(iso).blocks * 512 < PAD / 2, `a sparse file: ${statSync(iso).blocks} blocks of 512 bytes for ${PAD + 6} bytes`);
    const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');
    const ledger = (): Record<string, { sha256: string }> => (JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8')) as { files: Record<string, { sha256: string }> }).files;
    assert.equal(ledger()['hosts/a/seed.iso']!.sha256, `${sha('volume')}+${PAD}`);
    assert.equal(ledger()['middle.bin']!.sha256, sha(readFileSync(join(dir, 'middle.bin'))), 'zeros before a non-zero byte are hashed');

    // Copied back by a tool that writes every zero (a new inode): read, digested, recognised.
    writeFileSync(join(dir, 'copy'), expected);
    renameSync(join(dir, 'copy'), iso);
    const copied = await writeTree(dir, t);
    assert.ok('written' in copied, JSON.stringify(copied));
    assert.deepEqual(copied.unchanged.sort(), ['hosts/a/seed.iso', 'many.bin', 'middle.bin']);

    // A ledger of a kubebake before trailing zeros were counted holds the plain sha256: still ours.
    const m = JSON.parse(readFileSync(join(dir, LEDGER_FILE), 'utf8')) as { files: Record<string, { sha256: string; ino?: number }> };
    m.files['hosts/a/seed.iso'] = { sha256: sha(expected) };
    writeFileSync(join(dir, LEDGER_FILE), JSON.stringify(m));
    const upgraded = await writeTree(dir, new FileTree().addBuilt('hosts/a/seed.iso', () => [Buffer.from('volume 2'), zeros(PAD)], 0o600).addBuilt('middle.bin', () => [Buffer.from('a')]));
    assert.ok('written' in upgraded, JSON.stringify(upgraded));
    assert.deepEqual(upgraded.written.sort(), ['hosts/a/seed.iso', 'middle.bin']);
    assert.equal(ledger()['hosts/a/seed.iso']!.sha256, `${sha('volume 2')}+${PAD}`);

    // One zero byte more at the end is an edit.
    writeFileSync(iso, Buffer.concat([Buffer.from('volume 2'), Buffer.alloc(PAD + 1)]));
    const edited = await writeTree(dir, new FileTree().addBuilt('hosts/a/seed.iso', () => [Buffer.from('volume 3'), zeros(PAD)], 0o600).addBuilt('middle.bin', () => [Buffer.from('a')]));
    assert.ok('diagnostics' in edited);
    assert.deepEqual(edited.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [`${iso} was edited since kubebake wrote it; kubebake will not replace it`]);
  });
});

test('a file\'s digest is the same however its bytes are chunked, zero chunks or not', () => {
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  // By definition: the sha256 of the bytes before the trailing zeros, and their count.
  const expected = (b: Buffer): string => {
    let end = b.length;
    while (end > 0 && b[end - 1] === 0) end--;
    return end === b.length ? sha(b) : `${sha(b.subarray(0, end))}+${b.length - end}`;
  };
  const cases: Uint8Array[][] = [
    [Buffer.from('text\n')],
    [Buffer.from('iso'), Buffer.alloc(3), zeros(70_000)], // zeros that are not a zero chunk, then a zero chunk
    [zeros(70_000), Buffer.from('x')], // leading zeros: hashed, since a byte follows
    [Buffer.from('a'), zeros(100_000), Buffer.from([0, 0]), zeros(5), Buffer.from('b'), Buffer.alloc(7)],
    [zeros(10)],
    [],
    // Leading zeros start from a remembered hash state (a seed ISO's system area): the state must
    // stay as it was for the next file, for every count (more counts than it remembers).
    [zeros(32_768), Buffer.from('CD001'), zeros(300)],
    [Buffer.alloc(5), zeros(32_768), Buffer.from('y')],
    [zeros(3), zeros(4), Buffer.from('z'), zeros(3), Buffer.from('z')],
    ...Array.from({ length: 20 }, (_, n) => [zeros(n + 1), Buffer.from([n + 1])]),
  ];
  for (const chunks of [...cases, ...cases]) {
    const whole = Buffer.concat(chunks);
    const d = new FileDigest();
    for (const c of chunks) d.update(c);
    assert.equal(d.digest(), expected(whole), `${chunks.length} chunks, ${whole.length} bytes`);
    assert.equal(fileDigest(whole), expected(whole));
  }
  assert.equal(fileDigest('text\n'), sha(Buffer.from('text\n')), 'text: its plain sha256');
  assert.equal(fileDigest('x\0'), `${sha(Buffer.from('x'))}+1`);
});

test('the ledger is the JSON that JSON.stringify would write, even when written in many batches', async () => {
  await withTempDir(async (dir) => {
    // 2,000 files: a ledger of about 300 KiB, several batches of the writer's 64 KiB.
    const files = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`hosts/h${i}/meta-data`, `instance-id: h${i}\n`]));
    assert.ok('written' in (await writeTree(dir, tree(files))));
    const text = readFileSync(join(dir, LEDGER_FILE), 'utf8');
    assert.ok(text.length > 4 * 64 * 1024, `${text.length} bytes`);
    const m = JSON.parse(text) as { generator: string; version: number; complete: boolean; files: Record<string, { sha256: string; size: number }> };
    assert.equal(text, JSON.stringify(m) + '\n');
    assert.deepEqual([m.generator, m.version, m.complete], ['kubebake', 2, true]);
    assert.deepEqual(Object.keys(m.files).sort(), Object.keys(files).sort());
    const h7 = m.files['hosts/h7/meta-data']!;
    assert.deepEqual([h7.sha256, h7.size], [createHash('sha256').update('instance-id: h7\n').digest('hex'), 'instance-id: h7\n'.length]);
    assert.equal(statSync(join(dir, LEDGER_FILE)).mode & 0o777, 0o644);
    assert.equal(LEDGER_FILE, '.kubebake-manifest.json', 'the name on disk is kept from the versions that called it a manifest');
  });
});
