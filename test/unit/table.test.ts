/** view/table.ts and view/go-template.ts: the docker CLI's tables and `inspect -f`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, table, truncate } from '../../src/view/table';
import { formatTemplate } from '../../src/view/go-template';

test('table() pads each column to its widest cell plus three spaces, leaves the last unpadded and cuts trailing blanks', () => {
  const t = table(['NETWORK ID', 'NAME', 'DRIVER'], [['1a2b3c4d5e6f', 'bridge', 'bridge'], ['0f0f0f0f0f0f', 'a-much-longer-name', '']]);
  assert.equal(t, ['NETWORK ID     NAME                 DRIVER', '1a2b3c4d5e6f   bridge               bridge', '0f0f0f0f0f0f   a-much-longer-name'].join('\n'));
});

test('table() with no rows is the header line alone', () => {
  assert.equal(table(['CONTAINER ID', 'IMAGE'], []), 'CONTAINER ID   IMAGE');
});

test('ago() says how long ago a time in epoch seconds was, in docker words', () => {
  const now = 1_700_000_000_000;
  assert.equal(ago(now / 1000 - 30, now), '30 seconds ago');
  assert.equal(ago(now / 1000 - 3 * 3600, now), '3 hours ago');
  assert.equal(ago(now / 1000, now), 'Less than a second ago');
});

test('truncate() keeps strings up to n characters and cuts longer ones to n with an ellipsis', () => {
  assert.equal(truncate('sleep 300', 20), 'sleep 300');
  assert.equal(truncate('12345678901234567890', 20), '12345678901234567890');
  assert.equal(truncate('sh -c while true; do date; done', 20), 'sh -c while true; d…');
  assert.equal(truncate('sh -c while true; do date; done', 20).length, 20);
});

test('formatTemplate() fills {{.A.B}} and {{json .A}}, objects as JSON, missing fields as <no value>', () => {
  const obj = { Name: 'web', NetworkSettings: { IPAddress: '172.17.0.2', Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } }, State: { Pid: 0, Running: false } };
  assert.equal(formatTemplate('{{.NetworkSettings.IPAddress}}', obj), '172.17.0.2');
  assert.equal(formatTemplate('{{ .Name }} pid={{.State.Pid}} up={{.State.Running}}', obj), 'web pid=0 up=false');
  assert.equal(formatTemplate('{{json .NetworkSettings.Ports}}', obj), '{"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}');
  assert.equal(formatTemplate('{{.State}}', obj), '{"Pid":0,"Running":false}');
  assert.equal(formatTemplate('{{.Nope.Deeper}}', obj), '<no value>');
  assert.equal(formatTemplate('{{.}}', 'x'), 'x');
  assert.equal(formatTemplate('no actions', obj), 'no actions');
});
