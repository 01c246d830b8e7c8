/**
 * `ctrnet topology` and the web UI, as a user sees them. Test host "tp" runs ctrnetd with
 * `--ui 127.0.0.1:PORT`, three user networks and about ten containers (published port, container
 * mode, host and none modes, a stopped one, one on two networks). The terminal output is checked
 * against `ip` in the host; the page is loaded by a headless Chromium started *inside* the test
 * host's namespace (the only place 127.0.0.1:PORT reaches the daemon), driven with playwright-core
 * over a pipe (no debugging port anywhere). A screenshot is saved as test-output/ui.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { LabHost } from '../../scripts/lab';
import { assertNoLeftovers } from './_util';
import { checkXml } from '../helpers/xml';
import type { Topology } from '../../src/base/topology';

const PORT = 7781;
const URL_ = `http://127.0.0.1:${PORT}/`;
const CHROMIUM = '/usr/bin/chromium';
const OUT = path.resolve(__dirname, '../../../test-output');

let h: LabHost;
let ctx: BrowserContext | undefined;
let page: Page;
let chromePidFile = '';

const CONTAINERS = ['web', 'side', 'api1', 'api2', 'db', 'multi', 'cache', 'hostc', 'iso', 'gone'];

before(async () => {
  h = await LabHost.create('tp');
  await h.startDaemon(['--ui', `127.0.0.1:${PORT}`]);
  await h.ctl(['network', 'create', '--subnet', '10.220.1.0/24', 'n1']);
  await h.ctl(['network', 'create', '--subnet', '10.220.2.0/24', 'n2']);
  await h.ctl(['network', 'create', '--subnet', '10.220.3.0/24', '--internal', 'n3']);
  const run = (args: string[]) => h.ctl(['run', '-d', ...args]);
  await run(['--name', 'web', '-p', '8080:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
  await run(['--name', 'side', '--network', 'container:web', 'busybox', 'sleep', '600']);
  await run(['--name', 'api1', '--network', 'n1', 'busybox', 'sleep', '600']);
  await run(['--name', 'api2', '--network', 'n1', 'busybox', 'sleep', '600']);
  await run(['--name', 'db', '--network', 'n2', 'busybox', 'sleep', '600']);
  await run(['--name', 'multi', '--network', 'n1', 'busybox', 'sleep', '600']);
  await h.ctl(['network', 'connect', 'n2', 'multi']);
  await run(['--name', 'cache', '--network', 'n3', 'busybox', 'sleep', '600']);
  await run(['--name', 'hostc', '--network', 'host', 'busybox', 'sleep', '600']);
  await run(['--name', 'iso', '--network', 'none', 'busybox', 'sleep', '600']);
  await h.ctl(['create', '--name', 'gone', '--network', 'n2', 'busybox', 'true']);
});

after(async () => {
  // Chromium first: it lives in the test host's namespace.
  await Promise.race([ctx?.close(), new Promise((r) => setTimeout(r, 10_000))]).catch(() => {});
  const pid = chromePidFile && existsSync(chromePidFile) ? Number(readFileSync(chromePidFile, 'utf8')) : 0;
  if (pid) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone: closed by playwright
    }
  }
  await h?.destroy();
  assertNoLeftovers([h].filter(Boolean));
});

async function bridgePorts(bridge: string): Promise<string[]> {
  return (JSON.parse(await h.run(['ip', '-j', 'link', 'show', 'master', bridge])) as { ifname: string }[]).map((l) => l.ifname).sort();
}

describe('ctrnet topology', () => {
  it('draws every bridge the kernel has, with its ports, and every container with its address and published ports', async () => {
    const text = await h.ctl(['topology']);
    const bridges = (JSON.parse(await h.run(['ip', '-j', 'link', 'show', 'type', 'bridge'])) as { ifname: string }[]).map((l) => l.ifname);
    assert.ok(bridges.length >= 4, bridges.join(' '));
    for (const b of bridges) {
      assert.ok(text.includes(`bridge ${b} up`), `bridge ${b} in:\n${text}`);
      for (const port of await bridgePorts(b)) assert.ok(text.includes(port), `port ${port} of ${b}`);
    }
    for (const c of CONTAINERS) assert.match(text, new RegExp(`\\b${c}\\b`), c);
    const webIp = /inet (\d+\.\d+\.\d+\.\d+)/.exec(await h.ctl(['exec', 'web', 'ip', '-4', '-o', 'addr', 'show', 'eth0']))![1];
    assert.match(text, new RegExp(`web +eth0 ${webIp.replace(/\./g, '\\.')}/16`));
    assert.match(text, new RegExp(`0\\.0\\.0\\.0:8080/tcp +-> web ${webIp.replace(/\./g, '\\.')}:80`));
    assert.match(text, /shares its namespace: side \(running, container mode\)/);
    assert.match(text, /^host network[\s\S]*hostc +running/m);
    assert.match(text, /^no network[\s\S]*iso +running/m);
    assert.match(text, /network n3 \(bridge\) .*internal/);
    assert.match(text, /gone +\(created: no interface\)/);
    const multi = text.split('\n').filter((l) => /multi +eth\d/.test(l));
    assert.equal(multi.length, 2, 'multi is drawn on both of its networks');
  });

  it('--format json is the model: bridge ports as `ip link show master` lists them, modes, shared namespaces', async () => {
    const t = JSON.parse(await h.ctl(['topology', '--format', 'json'])) as Topology;
    for (const n of t.networks.filter((x) => x.bridge && x.bridgePresent)) {
      assert.deepEqual(n.ports.map((p) => p.name).sort(), await bridgePorts(n.bridge!), n.name);
    }
    const by = Object.fromEntries(t.containers.map((c) => [c.name, c]));
    assert.deepEqual(Object.keys(by).sort(), [...CONTAINERS].sort());
    assert.equal(by.side.mode, 'container');
    assert.equal(by.side.netnsOwner, by.web.id);
    assert.equal(by.hostc.mode, 'host');
    assert.equal(by.iso.mode, 'none');
    assert.deepEqual(by.multi.interfaces.map((i) => i.networkName), ['n1', 'n2']);
    assert.ok(by.multi.interfaces.every((i) => i.onBridge));
    assert.deepEqual(by.web.ports.map((p) => [p.hostPort, p.containerPort, p.proto]), [[8080, 80, 'tcp']]);
    assert.equal(by.gone.status, 'created');
  });

  it('--format dot and --format svg export the same picture', async () => {
    const dot = await h.ctl(['topology', '--format', 'dot']);
    assert.match(dot, /^graph ctrnet \{/);
    for (const c of CONTAINERS) assert.ok(dot.includes(`label="${c}\\n`), c);
    const svg = await h.ctl(['topology', '--format', 'svg', '--width', '1200']);
    assert.equal(checkXml(svg), 'svg');
    assert.match(svg, /<svg [^>]*width="1200"/);
    for (const c of CONTAINERS) assert.ok(svg.includes(`data-name="${c}"`), c);
    const bad = await h.cli(['topology', '--format', 'png']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /choose one of text, json, dot, svg/);
  });
});

describe('the web UI (--ui 127.0.0.1:PORT)', () => {
  it('listens on that address only, and refuses a foreign Host header', async () => {
    const listening = (await h.run(['ss', '-Hltn'])).split('\n').filter((l) => l.includes(`:${PORT}`));
    assert.equal(listening.length, 1, listening.join('\n'));
    assert.match(listening[0], new RegExp(`\\s127\\.0\\.0\\.1:${PORT}\\s`));
    const other = await h.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `http://172.17.0.1:${PORT}/`]);
    assert.notEqual(other.code, 0, 'reachable on the bridge address');
    const ok = await h.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `${URL_}api/topology`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok((JSON.parse(ok.stdout) as Topology).containers.length >= 10);
    const rebind = await h.exec(['timeout', '5', 'busybox', 'wget', '-qO-', '--header', 'Host: evil.example', URL_]);
    assert.notEqual(rebind.code, 0);
    assert.match(rebind.stderr, /421/);
  });

  it('Chromium shows the networks and containers, redraws within a second on start, stop, connect and a published port, and explains a clicked container', async () => {
    mkdirSync(OUT, { recursive: true });
    // Chromium must run in the test host's namespace: a wrapper enters it, then becomes Chromium
    // (exec keeps the PID, recorded for the cleanup, and the pipe playwright talks over).
    const wrapper = `${h.dir}/chromium-in-netns`;
    chromePidFile = `${h.dir}/chromium.pid`;
    writeFileSync(wrapper, `#!/bin/sh\necho $$ > ${chromePidFile}\nexec nsenter --net=${h.netnsPath} ${CHROMIUM} "$@"\n`);
    chmodSync(wrapper, 0o755);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install the Debian package chromium (scripts/bootstrap does)`);
    ctx = await chromium.launchPersistentContext(`${h.dir}/chromium-profile`, {
      executablePath: wrapper,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1600, height: 1000 },
      timeout: 60_000,
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    const apiRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/topology')) apiRequests.push(r.url());
    });
    await page.goto(URL_);
    await page.waitForSelector('#live[data-state="live"]', { timeout: 10_000 });
    for (const c of CONTAINERS) await page.waitForSelector(`#picture .tp-ctr[data-name="${c}"]`, { timeout: 10_000 });
    for (const n of ['bridge', 'n1', 'n2', 'n3']) assert.equal(await page.locator(`#picture .tp-lane[data-network="${n}"]`).count(), 1, n);
    assert.equal(await page.locator('#picture .tp-ctr[data-name="multi"]').count(), 2, 'multi: one box per network');
    assert.equal(await page.locator('#picture .tp-ctr[data-name="gone"][data-status="created"]').count(), 1);
    assert.match((await page.locator('#picture .tp-lane[data-network="bridge"]').textContent()) ?? '', /ctrnet0/);

    // No polling: a quiet daemon means a quiet page.
    await page.waitForTimeout(500);
    const quiet = apiRequests.length;
    await page.waitForTimeout(2500);
    assert.equal(apiRequests.length, quiet, 'the page fetched the topology without an event');

    const within1s = async (what: string, selector: string, act: () => Promise<unknown>) => {
      await act();
      const t0 = Date.now();
      await page.waitForSelector(selector, { timeout: 3000 }).catch(() => assert.fail(`${what}: not shown within 3 s`));
      const ms = Date.now() - t0;
      assert.ok(ms < 1000, `${what}: shown after ${ms} ms`);
    };
    await within1s('start', '.tp-ctr[data-name="late"][data-status="running"]', () => h.ctl(['run', '-d', '--name', 'late', '--network', 'n2', 'busybox', 'sleep', '600']));
    await within1s('stop', '.tp-ctr[data-name="late"][data-status="exited"]', () => h.ctl(['stop', '-t', '1', 'late']));
    const n3 = await page.locator('.tp-lane[data-network="n3"]').getAttribute('data-lane');
    await within1s('connect', `.tp-ctr[data-name="api1"][data-lane="${n3}"]`, () => h.ctl(['network', 'connect', 'n3', 'api1']));
    await within1s('published port', '.tp-ctr[data-name="pub"]', () => h.ctl(['run', '-d', '--name', 'pub', '-p', '8081:80', 'busybox', 'httpd', '-f', '-p', '80']));
    assert.match((await page.locator('.tp-ctr[data-name="pub"]').textContent()) ?? '', /8081→80\/tcp/);
    await within1s('remove', '#picture:not(:has(.tp-ctr[data-name="late"]))', () => h.ctl(['rm', 'late']));

    // Click: the side panel explains the container.
    await page.locator('.tp-ctr[data-name="web"]').first().click();
    await page.waitForSelector('#panel:not([hidden])');
    assert.equal(await page.locator('#panel-title').textContent(), 'web');
    await page.waitForFunction(() => !/Asking the daemon/.test(document.getElementById('explain')!.textContent ?? ''), null, { timeout: 10_000 });
    // What `ctrnet explain web` says, but for packet counters, which move between the two reads.
    const stable = (s: string) => s.trim().split('\n').filter((l) => !/packets|connection\(s\)|个连接/.test(l));
    const explained = (await page.locator('#explain').textContent()) ?? '';
    assert.match(explained, /^Container web \(running\)/);
    assert.deepEqual(stable(explained), stable(await h.ctl(['explain', 'web'])));
    assert.equal(await page.locator('.tp-ctr.sel[data-name="web"]').count(), 1);
    await page.locator('.langs button[data-lang="zh"]').click();
    await page.waitForFunction(() => /^容器 web/.test(document.getElementById('explain')!.textContent ?? ''), null, { timeout: 10_000 });
    await page.locator('.langs button[data-lang="en"]').click();
    await page.waitForFunction(() => /^Container web/.test(document.getElementById('explain')!.textContent ?? ''), null, { timeout: 10_000 });

    // The CLI's SVG parses in the browser too (an XML parser, not ours).
    const svg = await h.ctl(['topology', '--format', 'svg']);
    const parsed = await page.evaluate((s) => {
      const d = new DOMParser().parseFromString(s, 'image/svg+xml');
      return d.querySelector('parsererror') ? 'error' : d.documentElement.nodeName;
    }, svg);
    assert.equal(parsed, 'svg');

    // The filter dims what does not match (by name, IP, network, port).
    await page.fill('#filter', '10.220.3.');
    assert.equal(await page.locator('.tp-ctr.dim[data-name="cache"]').count(), 0);
    assert.equal(await page.locator('.tp-ctr:not(.dim)[data-name="web"]').count(), 0);
    await page.fill('#filter', '');
    assert.equal(await page.locator('.tp-ctr.dim').count(), 0);

    // For review: the whole picture in one image, the explanation panel open.
    const svgHeight = await page.locator('#picture svg').evaluate((el) => el.getBoundingClientRect().height);
    await page.setViewportSize({ width: 1600, height: Math.ceil(svgHeight) + 130 });
    await page.screenshot({ path: path.join(OUT, 'ui.png') });
    assert.ok(existsSync(path.join(OUT, 'ui.png')));
  });
});
