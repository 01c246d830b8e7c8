/**
 * The image store on its own (a real root, SQLite and files; no daemon): a `docker save` archive
 * Docker 20.10 made loads, and saving it again writes Docker's bytes exactly; blobs are checked
 * against their digest and size and a wrong one leaves nothing; a partial download resumes; a
 * commit turns an overlayfs upper directory (whiteouts, an opaque directory) into a layer in
 * Docker's format on top of its parent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { LocalImageStore } from '../../src/images/local-image-store';
import { SqliteStore } from '../../src/state/sqlite-store';
import { sha256 } from '../../src/images/content-store';
import { emptyConfig } from '../../src/base/image-config';
import { fixture } from '../helpers/test-images';

let root: string;
let db: SqliteStore;
let store: LocalImageStore;

const collect = async (r: Readable): Promise<Buffer> => {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
};

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the image store tests need root (layers keep their owners)');
  root = mkdtempSync('/tmp/ctrnet-store-');
  db = new SqliteStore(`${root}/ctrnet.db`);
  store = new LocalImageStore({ root, execRoot: `${root}/run` }, db.images);
  await store.init();
});

after(() => {
  db?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the image store', () => {
  it('loads a `docker save` archive Docker 20.10 made, and saves it again byte for byte', async () => {
    const genuine = readFileSync(fixture('docker-20.10-save.tar'));
    const said: string[] = [];
    assert.deepEqual(await store.load(createReadStream(fixture('docker-20.10-save.tar')), (e) => e.stream && said.push(e.stream)), ['tiny:two']);
    assert.deepEqual(said, ['Loaded image: tiny:two\n']);
    const img = store.get('tiny:two');
    assert.equal(img.id, 'sha256:8d52cd5c402d55d62c993762d9aee64120cf6ff1fb3ef7430ae8312799cc2683');
    assert.deepEqual([img.config.cmd, img.config.workingDir, img.config.exposedPorts, img.size], [['cat', '/srv/second.txt'], '/srv', ['8080/tcp'], 61]);
    assert.equal(readFileSync(`${img.layers[0]}/srv/second.txt`, 'utf8'), 'second layer\n');
    const saved = await collect(store.save(['tiny:two']));
    assert.ok(saved.equals(genuine), `ctrnet's save differs from Docker's (${saved.length} and ${genuine.length} bytes)`);
  });

  it('refuses a blob whose digest or size is not the one announced, and keeps nothing of it', async () => {
    const data = Buffer.from('some blob');
    const wrong = `sha256:${'0'.repeat(64)}`;
    const w = await store.blobs.writer(wrong, data.length, true);
    Readable.from([data]).pipe(w.stream).resume();
    await new Promise((r) => w.stream.on('end', r));
    await assert.rejects(w.commit(), /verification failed for digest/);
    assert.equal(await store.blobs.has(wrong), false);
    assert.deepEqual(readdirSync(`${root}/images/tmp`), []);
    const w2 = await store.blobs.writer(sha256(data), 3, false);
    await assert.rejects(new Promise((resolve, reject) => {
      Readable.from([data]).pipe(w2.stream).on('error', reject).on('finish', resolve).resume();
    }), /larger than the 3 bytes/);
    await w2.abort();
    assert.deepEqual(readdirSync(`${root}/images/tmp`), []);
  });

  it('resumes a partial download: the bytes on disk are replayed, only the rest is fetched', async () => {
    const data = Buffer.from('0123456789'.repeat(1000));
    const digest = sha256(data);
    const first = await store.blobs.writer(digest, data.length, true);
    first.stream.write(data.subarray(0, 4000));
    first.stream.end();
    for await (const c of first.stream) void c;
    await first.abort(true);
    const again = await store.blobs.writer(digest, data.length, true);
    assert.equal(again.resumedFrom, 4000);
    const replay = Readable.from((async function* () {
      for await (const c of store.blobs.openPartial(digest, again.resumedFrom)) yield c as Buffer;
      yield data.subarray(4000);
    })());
    replay.pipe(again.stream).resume();
    await new Promise((r) => again.stream.on('end', r));
    assert.equal(await again.commit(), digest);
    assert.ok(readFileSync(store.blobs.path(digest)).equals(data));
  });

  it('commit() makes a layer of an overlayfs upper directory: whiteouts become .wh. files, opaque directories .wh..wh..opq, on top of the parent', async () => {
    const upper = `${root}/upper`;
    mkdirSync(`${upper}/srv`, { recursive: true });
    writeFileSync(`${upper}/srv/new.txt`, 'committed\n');
    spawnSync('mknod', [`${upper}/srv/greeting`, 'c', '0', '0']);
    mkdirSync(`${upper}/etc`);
    spawnSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', `${upper}/etc`]);
    const img = await store.commit({ parentId: 'tiny:two', upperDir: upper, config: { ...emptyConfig(), cmd: ['cat', '/srv/new.txt'] }, containerId: 'c0ffee', comment: 'a commit', author: 'me', tag: 'tiny:committed' });
    assert.equal(img.parent, store.get('tiny:two').id);
    assert.deepEqual(img.tags, ['tiny:committed']);
    assert.equal(img.details.diffIds.length, 3);
    assert.deepEqual([img.details.history.at(-1)?.comment, img.details.author, img.details.container], ['a commit', 'me', 'c0ffee']);
    const layerTar = store.blobs.path(img.details.diffIds[2]);
    const names = spawnSync('tar', ['-tf', layerTar], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(names, ['etc/', 'etc/.wh..wh..opq', 'srv/', 'srv/.wh.greeting', 'srv/new.txt']);
    assert.equal(readFileSync(`${img.layers[0]}/srv/new.txt`, 'utf8'), 'committed\n');
    assert.deepEqual(store.history('tiny:committed').map((h) => h.id).slice(0, 2), [img.id, store.get('tiny:two').id]);
  });
});
