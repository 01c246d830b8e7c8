/**
 * The layer extractor (src/images/tar/layer-extractor.ts) on tars made by GNU tar (and, for what
 * GNU tar will not write, by hand): whiteouts and opaque directories in overlayfs' format, checked
 * through a real overlay mount of two layers; ownership, modes, hard links, fifos, devices; and
 * every way out of the layer's directory refused with nothing written outside. Needs root (mknod,
 * chown, mount), as the daemon does.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync, chownSync, createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { extractLayer, LayerRefusedError } from '../../src/images/tar/layer-extractor';
import { TarFormatError, TarReader } from '../../src/images/tar/tar-reader';
import { tarHeader, TAR_END, padding, TarEntry } from '../../src/images/tar/tar-writer';

let tmp: string;
const sh = (...argv: string[]) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** A tar of `dir` by GNU tar. */
function gnuTar(dir: string, name: string, format = 'gnu'): Readable {
  const f = `${tmp}/${name}.tar`;
  sh('tar', `--format=${format}`, '--numeric-owner', '-C', dir, '-cf', f, '.');
  return createReadStream(f);
}

/** A tar made entry by entry (for what GNU tar will not write). */
function handTar(entries: (TarEntry & { data?: string })[]): Readable {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    parts.push(tarHeader({ ...e, size: e.type === 'file' ? data.length : 0 }));
    if (e.type === 'file') parts.push(data, padding(data.length));
  }
  parts.push(TAR_END);
  return Readable.from([Buffer.concat(parts)]);
}

function fresh(name: string): string {
  const d = `${tmp}/${name}`;
  mkdirSync(d, { recursive: true });
  return d;
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'the layer extractor tests need root (mknod, chown, an overlay mount)');
  tmp = mkdtempSync('/tmp/ctrnet-extract-');
});

after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test('extractLayer() makes whiteouts 0/0 character devices and opaque directories trusted.overlay.opaque, which an overlay mount of two layers honours', async () => {
  const s1 = fresh('src1');
  mkdirSync(`${s1}/d/sub`, { recursive: true });
  writeFileSync(`${s1}/d/a`, 'a');
  writeFileSync(`${s1}/d/sub/b`, 'b');
  writeFileSync(`${s1}/gone`, 'x');
  writeFileSync(`${s1}/kept`, 'k');
  const s2 = fresh('src2');
  mkdirSync(`${s2}/d`);
  writeFileSync(`${s2}/d/.wh..wh..opq`, '');
  writeFileSync(`${s2}/d/c`, 'c');
  writeFileSync(`${s2}/.wh.gone`, '');
  const l1 = fresh('l1');
  const l2 = fresh('l2');
  await extractLayer(gnuTar(s1, 't1'), l1);
  const r2 = await extractLayer(gnuTar(s2, 't2'), l2);
  assert.deepEqual(r2.skipped, []);
  const wh = lstatSync(`${l2}/gone`);
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the whiteout is not a 0/0 character device');
  assert.equal(existsSync(`${l2}/.wh.gone`), false);
  assert.match(sh('getfattr', '--absolute-names', '-n', 'trusted.overlay.opaque', `${l2}/d`), /trusted\.overlay\.opaque="y"/);
  const merged = fresh('merged');
  sh('mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${l2}:${l1}`, merged);
  try {
    assert.deepEqual(readdirSync(merged).sort(), ['d', 'kept']);
    assert.deepEqual(readdirSync(`${merged}/d`), ['c']);
  } finally {
    sh('umount', merged);
  }
});

test('extractLayer() keeps owners, modes (setuid too), times, symlinks, hard links and fifos; skips devices; long names in GNU and pax form', async () => {
  const s = fresh('src-meta');
  const long = `${'x'.repeat(90)}/${'y'.repeat(90)}/file`;
  mkdirSync(`${s}/${long.slice(0, long.lastIndexOf('/'))}`, { recursive: true });
  writeFileSync(`${s}/${long}`, 'long');
  writeFileSync(`${s}/suid`, '#!');
  chownSync(`${s}/suid`, 1234, 5678);
  chmodSync(`${s}/suid`, 0o4755);
  mkdirSync(`${s}/private`);
  chmodSync(`${s}/private`, 0o700);
  symlinkSync('/etc/passwd', `${s}/abs-link`);
  writeFileSync(`${s}/h1`, 'same inode');
  sh('ln', `${s}/h1`, `${s}/h2`);
  sh('mkfifo', `${s}/fifo`);
  sh('mknod', `${s}/null`, 'c', '1', '3');
  for (const format of ['gnu', 'pax']) {
    const d = fresh(`meta-${format}`);
    const r = await extractLayer(gnuTar(s, `meta-${format}`, format), d);
    assert.equal(readFileSync(`${d}/${long}`, 'utf8'), 'long', format);
    const st = statSync(`${d}/suid`);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1234, 5678, 0o4755], format);
    assert.equal(statSync(`${d}/private`).mode & 0o777, 0o700);
    assert.equal(lstatSync(`${d}/abs-link`).isSymbolicLink(), true);
    assert.equal(statSync(`${d}/h1`).ino, statSync(`${d}/h2`).ino);
    assert.ok(lstatSync(`${d}/fifo`).isFIFO());
    assert.equal(existsSync(`${d}/null`), false);
    assert.deepEqual(r.skipped, ['./null (char device 1:3)']);
    assert.equal(Math.floor(statSync(`${d}/h1`).mtimeMs / 1000), Math.floor(statSync(`${s}/h1`).mtimeMs / 1000));
  }
});

test('extractLayer() refuses every way out of the layer: "../", a symlink it planted (absolute or relative) used as a parent, a hard link outside, a whiteout of ".."', async () => {
  const outside = fresh('outside');
  const cases: [string, (TarEntry & { data?: string })[], RegExp][] = [
    ['dotdot', [{ name: '../escaped', type: 'file', mode: 0o644, data: 'x' }], /tries to write outside/],
    ['deep-dotdot', [{ name: 'a/b/../../../escaped', type: 'file', mode: 0o644, data: 'x' }], /tries to write outside/],
    ['abs-symlink-parent', [{ name: 'link', type: 'symlink', mode: 0o777, linkname: outside }, { name: 'link/escaped', type: 'file', mode: 0o644, data: 'x' }], /below a symlink/],
    ['rel-symlink-parent', [{ name: 'up', type: 'symlink', mode: 0o777, linkname: '../outside' }, { name: 'up/escaped', type: 'file', mode: 0o644, data: 'x' }], /below a symlink/],
    ['symlink-dir-parent', [{ name: 'd', type: 'dir', mode: 0o755 }, { name: 'd/l', type: 'symlink', mode: 0o777, linkname: '/' }, { name: 'd/l/tmp/escaped', type: 'dir', mode: 0o755 }], /below a symlink/],
    ['hardlink-out', [{ name: 'h', type: 'hardlink', mode: 0o644, linkname: '../outside/escaped' }], /tries to write outside/],
    ['hardlink-abs', [{ name: 'h', type: 'hardlink', mode: 0o644, linkname: '/etc/passwd' }], /does not have as a file/],
    ['whiteout-dotdot', [{ name: 'd/.wh...', type: 'file', mode: 0o644 }], /names no file|outside/],
    ['file-as-parent', [{ name: 'f', type: 'file', mode: 0o644, data: 'x' }, { name: 'f/g', type: 'file', mode: 0o644, data: 'y' }], /not a directory/],
  ];
  for (const [name, entries, why] of cases) {
    const d = fresh(`evil-${name}`);
    await assert.rejects(extractLayer(handTar(entries), d), (e: Error) => e instanceof LayerRefusedError && why.test(e.message), name);
    assert.deepEqual(readdirSync(outside), [], `${name} wrote outside`);
    assert.equal(existsSync(`${tmp}/escaped`), false, `${name} wrote outside`);
  }
  // Absolute names are names inside the layer (as Docker reads them), not paths of the host.
  const d = fresh('abs-name');
  await extractLayer(handTar([{ name: `${outside}/inside`, type: 'file', mode: 0o644, data: 'x' }]), d);
  assert.equal(readFileSync(`${d}${outside}/inside`, 'utf8'), 'x');
  assert.deepEqual(readdirSync(outside), []);
});

test('extractLayer() lets a later entry replace an earlier one, keeps only safe extended attributes (never trusted.*)', async () => {
  const d = fresh('replace');
  await extractLayer(handTar([
    { name: 'x', type: 'file', mode: 0o644, data: 'first' },
    { name: 'x', type: 'dir', mode: 0o755 },
    { name: 'x/y', type: 'file', mode: 0o644, data: 'second', xattrs: { 'user.note': Buffer.from('kept'), 'trusted.overlay.redirect': Buffer.from('/etc'), 'security.capability': Buffer.from('0100000200200000000000000000000000000000', 'hex') } },
  ]), d);
  assert.equal(readFileSync(`${d}/x/y`, 'utf8'), 'second');
  const attrs = sh('getfattr', '--absolute-names', '-d', '-m', '-', `${d}/x/y`);
  assert.match(attrs, /user\.note="kept"/);
  assert.match(attrs, /security\.capability=/);
  assert.doesNotMatch(attrs, /trusted/);
});

test('TarReader refuses a corrupt header and a truncated entry instead of reading garbage', async () => {
  const good = Buffer.concat([tarHeader({ name: 'f', type: 'file', mode: 0o644, size: 600 }), Buffer.alloc(1024)]);
  const bad = Buffer.from(good);
  bad[10] ^= 0xff;
  await assert.rejects(new TarReader(Readable.from([bad])).next(), (e: Error) => e instanceof TarFormatError && /checksum/.test(e.message));
  const r = new TarReader(Readable.from([good.subarray(0, 512 + 100)]));
  await r.next();
  await assert.rejects((async () => {
    for await (const c of r.body()) void c;
  })(), /unexpected end/);
});
