/*
 * ctrnet web UI. The picture is laid out and drawn by the daemon (src/view/topology-svg.ts, the
 * same code as `ctrnet topology --format svg`); this script fetches it for the page's width, redraws it when the
 * daemon reports a change (server-sent events: no polling), and opens a container's explanation
 * on click. Everything is looked up by data-* attributes the SVG carries.
 */
'use strict';

const $ = (id) => document.getElementById(id);
const picture = $('picture');
const panel = $('panel');
const state = { topology: null, selected: null, lang: 'en', filter: '', width: 0, known: null, renders: 0 };

// ------------------------------------------------------------------ drawing

let inFlight = false;
let again = false;
let timer = null;

/** Redraws soon; bursts of events (a `run` emits create then start) become one redraw. */
function schedule(delay = 60) {
  if (timer) return;
  timer = setTimeout(() => {
    timer = null;
    void refresh();
  }, delay);
}

async function refresh() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    const width = Math.max(480, picture.clientWidth - 28);
    const [t, svg] = await Promise.all([
      fetch('/api/topology').then(ok).then((r) => r.json()),
      fetch(`/api/topology.svg?width=${width}`).then(ok).then((r) => r.text()),
    ]);
    state.topology = t;
    state.width = width;
    draw(t, svg);
  } catch (e) {
    picture.innerHTML = '';
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = `Cannot load the topology: ${e.message}`;
    picture.append(p);
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      void refresh();
    }
  }
}

function ok(r) {
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r;
}

function draw(t, svg) {
  const scroll = [picture.scrollLeft, picture.scrollTop];
  picture.innerHTML = svg;
  [picture.scrollLeft, picture.scrollTop] = scroll;
  const ids = new Set(t.containers.map((c) => c.id));
  // Containers that were not there at the last redraw flash once: the eye finds what changed.
  if (state.known) for (const el of picture.querySelectorAll('.tp-ctr')) if (!state.known.has(el.dataset.id)) el.classList.add('new');
  state.known = ids;
  const running = t.containers.filter((c) => c.status === 'running').length;
  const nets = t.networks.filter((n) => n.driver === 'bridge' || n.driver === 'overlay').length;
  $('host').textContent = `host ${t.host.name}`;
  $('stats').textContent = `${t.containers.length} containers · ${running} running · ${nets} networks · updated ${new Date(t.generated).toLocaleTimeString()}`;
  applyFilter();
  if (state.selected) {
    const c = t.containers.find((x) => x.id === state.selected);
    if (c) {
      mark(c.id);
      $('panel-title').textContent = c.name;
      $('panel-meta').innerHTML = meta(c);
    } else showRemoved();
  }
  state.renders++;
  document.body.dataset.renders = String(state.renders);
}

// ------------------------------------------------------------------ filter and highlight

function searchText(c) {
  return [c.name, c.id.slice(0, 12), c.image, c.status, c.mode,
    ...c.interfaces.flatMap((i) => [i.ip, i.ip6 ?? '', i.mac, i.networkName, i.hostIf, i.name]),
    ...c.ports.map((p) => `${p.hostPort} ${p.containerPort}/${p.proto}`),
    ...c.networks.map((id) => state.topology.networks.find((n) => n.id === id)?.name ?? ''),
  ].join(' ').toLowerCase();
}

function applyFilter() {
  const f = state.filter.trim().toLowerCase();
  const match = new Set(state.topology && f ? state.topology.containers.filter((c) => f.split(/\s+/).every((w) => searchText(c).includes(w))).map((c) => c.id) : []);
  for (const el of picture.querySelectorAll('.tp-box')) el.classList.toggle('dim', !!f && !(el.dataset.id && match.has(el.dataset.id)));
  for (const el of picture.querySelectorAll('.tp-shared')) el.classList.toggle('dim', !!f && !match.has(el.dataset.owner));
}

$('filter').addEventListener('input', (ev) => {
  state.filter = ev.target.value;
  applyFilter();
});

/** A container on several networks is drawn in each lane: highlight all of its boxes together. */
function boxesOf(id) {
  return picture.querySelectorAll(`.tp-ctr[data-id="${CSS.escape(id)}"]`);
}

picture.addEventListener('mouseover', (ev) => {
  const el = ev.target.closest('.tp-ctr');
  for (const x of picture.querySelectorAll('.tp-ctr.hl')) if (!el || x.dataset.id !== el.dataset.id) x.classList.remove('hl');
  if (el) for (const x of boxesOf(el.dataset.id)) x.classList.add('hl');
});

// ------------------------------------------------------------------ side panel

picture.addEventListener('click', (ev) => {
  const el = ev.target.closest('.tp-ctr');
  if (el) void open(el.dataset.id);
});

function mark(id) {
  for (const x of picture.querySelectorAll('.tp-ctr.sel')) x.classList.remove('sel');
  for (const x of boxesOf(id)) x.classList.add('sel');
}

function meta(c) {
  const net = (id) => state.topology.networks.find((n) => n.id === id)?.name ?? id.slice(0, 12);
  const rows = [
    `<code>${esc(c.id.slice(0, 12))}</code> · ${esc(c.status)} · image <code>${esc(c.image)}</code> · mode ${esc(c.mode)}`,
    c.networks.length ? `networks: ${c.networks.map((id) => esc(net(id))).join(', ')}` : '',
    ...c.interfaces.map((i) => `<code>${esc(i.name)} ${esc([i.ip ? `${i.ip}/${i.prefixLen ?? '?'}` : '', i.ip6 ? `${i.ip6}/${i.prefixLen6 ?? '?'}` : ''].filter(Boolean).join(' '))} ${esc(i.mac)}</code> on ${esc(i.networkName)} (<code>${esc(i.hostIf)}</code>)`),
    ...c.ports.map((p) => `published <code>${esc(hp(p.hostIp, p.hostPort))} → ${esc(hp(p.containerIp, p.containerPort))}/${esc(p.proto)}</code>`),
  ];
  return rows.filter(Boolean).map((r) => `<div>${r}</div>`).join('');
}

/** ADDRESS:PORT, an IPv6 address in brackets */
function hp(ip, port) {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
}

let explainSeq = 0;
async function open(id) {
  const c = state.topology?.containers.find((x) => x.id === id);
  if (!c) return;
  state.selected = id;
  mark(id);
  panel.hidden = false;
  $('panel-title').textContent = c.name;
  $('panel-meta').innerHTML = meta(c);
  await loadExplain();
  // The picture is narrower with the panel open: lay it out again for the new width.
  schedule(0);
}

async function loadExplain() {
  const seq = ++explainSeq;
  const pre = $('explain');
  pre.textContent = 'Asking the daemon…';
  try {
    const r = await fetch(`/api/explain/${encodeURIComponent(state.selected)}?lang=${state.lang}`);
    const text = await r.text();
    if (seq !== explainSeq) return; // a later click won
    pre.textContent = r.ok ? text : `The daemon could not explain it (HTTP ${r.status}): ${text}`;
  } catch (e) {
    if (seq === explainSeq) pre.textContent = `Cannot reach the daemon: ${e.message}`;
  }
}

function showRemoved() {
  $('panel-meta').textContent = 'This container no longer exists.';
  $('explain').textContent = '';
}

$('panel-close').addEventListener('click', () => {
  panel.hidden = true;
  state.selected = null;
  mark('');
  schedule(0);
});

for (const b of document.querySelectorAll('.langs button')) {
  b.addEventListener('click', () => {
    state.lang = b.dataset.lang;
    for (const x of document.querySelectorAll('.langs button')) x.classList.toggle('on', x === b);
    if (state.selected) void loadExplain();
  });
}

// ------------------------------------------------------------------ live updates

function live(s, text) {
  $('live').dataset.state = s;
  $('live-text').textContent = text;
}

const source = new EventSource('/api/events');
source.addEventListener('open', () => {
  live('live', 'live');
  // After a reconnection events may have been missed: draw what is there now.
  schedule(0);
});
source.addEventListener('error', () => live(source.readyState === EventSource.CLOSED ? 'down' : 'connecting', 'reconnecting…'));
for (const type of ['container', 'network']) {
  source.addEventListener(type, (ev) => {
    schedule();
    const e = JSON.parse(ev.data);
    // The open explanation follows changes of its container (stop, connect, …).
    if (state.selected && e.id === state.selected && !panel.hidden) void loadExplain();
  });
}
schedule(0);

// The layout depends on the width: redraw when the picture's width changes (window, panel).
new ResizeObserver(() => {
  if (Math.abs(Math.max(480, picture.clientWidth - 28) - state.width) > 8) schedule(150);
}).observe(picture);
