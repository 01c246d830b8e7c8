/**
 * The tests' `docker save` builder (test/helpers/test-images.ts) against an archive Docker 20.10
 * made (test/fixtures/docker-20.10-save.tar: `docker save tiny:two` of a two-layer image built by
 * `docker build`): from the same config, layers and tag it writes the same bytes, so the e2e test
 * that loads a "Docker-made" busybox archive loads one Docker would have written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dockerSaveArchive, fixture } from '../helpers/test-images';

test('dockerSaveArchive() writes what Docker 20.10 wrote, byte for byte', () => {
  const genuine = readFileSync(fixture('docker-20.10-save.tar'));
  const dir = mkdtempSync('/tmp/ctrnet-save-fmt-');
  try {
    assert.equal(spawnSync('tar', ['-C', dir, '-xf', fixture('docker-20.10-save.tar')]).status, 0);
    const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8')) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    const images = manifest.map((m) => ({ config: readFileSync(`${dir}/${m.Config}`), layers: m.Layers.map((l) => readFileSync(`${dir}/${l}`)), tags: m.RepoTags }));
    const built = dockerSaveArchive(images);
    assert.equal(built.length, genuine.length);
    assert.ok(built.equals(genuine), 'the archives differ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
