// The live page at `/`: one self-contained document (no CDN, no other request than /api/status
// and /events). The topology as an SVG diagram (load balancers → control planes → workers), each
// host's state, step timings, last log lines and the cluster's verdict, updated by Server-Sent
// Events. Everything a host sent is put in with textContent, never as markup; the Content
// Security Policy allows only this page's own script and style (by hash).
import { createHash } from 'node:crypto';
import { INSTALL_LABEL } from './state.js';

const STYLE = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1b1f24; background: #f6f7f9; }
body { margin: 0 auto; max-width: 1200px; padding: 16px; }
h1 { font-size: 20px; margin: 0 0 8px; }
#verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; background: #d0d7de; }
#verdict.ready { background: #2da44e; color: #fff; } #verdict.failed { background: #cf222e; color: #fff; }
#verdict.in-progress { background: #bf8700; color: #fff; }
#conn { color: #57606a; margin-left: 8px; font-size: 12px; }
svg { width: 100%; background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 12px 0; }
svg text { font-size: 12px; fill: #1b1f24; } svg text.sub { font-size: 11px; fill: #57606a; }
svg line { stroke: #8c959f; stroke-width: 1.2; }
svg rect { stroke: #57606a; stroke-width: 1; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d0d7de; vertical-align: top; }
.bar { width: 140px; height: 10px; background: #d0d7de; border-radius: 5px; overflow: hidden; }
.bar > div { height: 100%; background: #0969da; }
tr.failed .bar > div { background: #cf222e; } tr.done .bar > div { background: #2da44e; }
.reason { color: #cf222e; font-weight: 600; } .install-armed .install-state { color: #bf8700; font-weight: 600; }
pre { margin: 4px 0 0; padding: 6px; background: #1b1f24; color: #e6edf3; font-size: 12px; white-space: pre-wrap; max-height: 12em; overflow: auto; }
.steps { font-size: 12px; color: #57606a; }
`;

const SCRIPT = `
'use strict';
const COLORS = { waiting: '#eaeef2', 'seed-fetched': '#ddf4ff', booting: '#a5d6ff', running: '#fff1b8', done: '#aceebb', failed: '#ffcecb' };
const ROWS = [['load-balancer', 'load balancers'], ['control-plane', 'control planes'], ['worker', 'workers']];
const SVG = 'http://www.w3.org/2000/svg';
const hosts = new Map();
let verdict = 'waiting';

function el(tag, attrs, text) {
  const e = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function label(h) {
  if (h.phase === 'waiting') return 'waiting';
  if (h.phase === 'seed-fetched') return 'seed fetched';
  if (h.phase === 'booting') return 'booting';
  if (h.phase === 'running') return 'step ' + h.stepIndex + '/' + h.steps.length + ': ' + h.steps[h.stepIndex - 1].name;
  if (h.phase === 'done') return h.role === 'load-balancer' ? 'ready' : 'joined';
  return 'failed: ' + (h.reason || 'no reason given');
}
const INSTALL = ${JSON.stringify(INSTALL_LABEL)};
function seconds(s) {
  if (!s.startedAt) return '';
  const end = s.endedAt ? Date.parse(s.endedAt) : Date.now();
  return Math.max(0, Math.round((end - Date.parse(s.startedAt)) / 1000)) + ' s';
}
function diagram() {
  const svg = document.getElementById('diagram');
  svg.replaceChildren();
  const W = 150, H = 50, GAP = 20, PER_ROW = 7, places = new Map();
  let y = 10;
  const rows = ROWS.map(([role, title]) => ({ role, title, list: [...hosts.values()].filter((h) => h.role === role) })).filter((r) => r.list.length);
  const layout = rows.map((r) => {
    const top = y + 16;
    r.list.forEach((h, i) => places.set(h.name, { x: 10 + (i % PER_ROW) * (W + GAP), y: top + Math.floor(i / PER_ROW) * (H + GAP) }));
    y = top + Math.ceil(r.list.length / PER_ROW) * (H + GAP) + 20;
    return { ...r, top };
  });
  const width = 20 + Math.min(PER_ROW, Math.max(1, ...rows.map((r) => r.list.length))) * (W + GAP);
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + y);
  svg.setAttribute('height', String(y));
  const lines = el('svg:g', { class: 'links' });
  svg.append(lines);
  for (let i = 1; i < layout.length; i++) {
    for (const a of layout[i - 1].list) for (const b of layout[i].list) {
      const p = places.get(a.name), q = places.get(b.name);
      lines.append(el('svg:line', { x1: p.x + W / 2, y1: p.y + H, x2: q.x + W / 2, y2: q.y }));
    }
  }
  for (const r of layout) {
    svg.append(el('svg:text', { x: 10, y: r.top - 4, class: 'sub' }, r.title));
    for (const h of r.list) {
      const p = places.get(h.name);
      const g = el('svg:g', { 'data-host': h.name, 'data-phase': h.phase });
      g.append(el('svg:rect', { x: p.x, y: p.y, width: W, height: H, rx: 6, fill: COLORS[h.phase] || '#fff' }));
      g.append(el('svg:text', { x: p.x + 8, y: p.y + 18 }, h.name + '  ' + h.ip));
      const t = label(h);
      g.append(el('svg:text', { x: p.x + 8, y: p.y + 36, class: 'sub' }, t.length > 24 ? t.slice(0, 23) + '…' : t));
      g.append(el('svg:title', {}, h.name + ': ' + t));
      svg.append(g);
    }
  }
}
function table() {
  const body = document.getElementById('hosts');
  body.replaceChildren();
  for (const h of hosts.values()) {
    const tr = el('tr', { 'data-host': h.name, 'data-phase': h.phase, class: h.phase });
    const install = el('td', { class: 'install install-' + h.install });
    install.append(el('div', { class: 'install-state' }, INSTALL[h.install] || ''));
    // Its seed (user-data: keys, token): to its own address until it joins, then to nobody until re-armed.
    install.append(h.sealedAt
      ? el('div', { class: 'steps seed-sealed', title: 'sealed ' + h.sealedAt }, 'seed sealed (joined); re-arm: kubebake serve --reinstall ' + h.name)
      : el('div', { class: 'steps seed-open' }, 'seed: to ' + h.ip + ' only' + (h.armedAt ? ' (re-armed ' + h.armedAt.slice(0, 16).replace('T', ' ') + ')' : '')));
    tr.append(el('td', {}, h.name), el('td', {}, h.role), el('td', {}, h.ip), install);
    const state = el('td', { class: 'state' });
    state.append(el('div', { class: h.phase === 'failed' ? 'reason' : '' }, label(h)));
    if (h.seedFetchedAt) state.append(el('div', { class: 'steps' }, 'seed: ' + h.seedFiles.join(', ')));
    if (h.cloudInitDoneAt) state.append(el('div', { class: 'steps' }, 'cloud-init finished'));
    if (h.log.length) state.append(el('pre', { class: 'log' }, h.log.join('\\n')));
    const done = h.phase === 'done' ? h.steps.length : h.steps.filter((s) => s.endedAt && s.failedRc === undefined).length;
    const bar = el('div', { class: 'bar', title: done + '/' + h.steps.length });
    const fill = el('div');
    fill.style.width = (h.steps.length ? (100 * done) / h.steps.length : 0) + '%';
    bar.append(fill);
    const progress = el('td');
    progress.append(bar, el('div', { class: 'steps' }, done + '/' + h.steps.length + ' steps'));
    const steps = el('td', { class: 'steps' });
    for (const s of h.steps) if (s.startedAt) steps.append(el('div', {}, s.name + ' ' + seconds(s) + (s.failedRc !== undefined ? ' (failed, exit ' + s.failedRc + ')' : s.endedAt ? '' : ' …')));
    tr.append(state, progress, steps);
    body.append(tr);
  }
}
function render() {
  const v = document.getElementById('verdict');
  v.className = verdict;
  const list = [...hosts.values()];
  const count = (p) => list.filter((h) => h.phase === p).length;
  v.textContent = verdict + ' — ' + count('done') + '/' + list.length + ' done' + (count('failed') ? ', ' + count('failed') + ' failed' : '');
  diagram();
  table();
}
function snapshot(s) {
  document.getElementById('cluster').textContent = s.cluster;
  document.title = 'kubebake: ' + s.cluster;
  hosts.clear();
  for (const h of s.hosts) hosts.set(h.name, h);
  verdict = s.verdict;
  render();
}
const conn = document.getElementById('conn');
const events = new EventSource('/events');
events.addEventListener('status', (e) => { conn.textContent = 'live'; snapshot(JSON.parse(e.data)); });
events.addEventListener('host', (e) => { const d = JSON.parse(e.data); hosts.set(d.host.name, d.host); verdict = d.verdict; render(); });
events.onerror = () => { conn.textContent = 'reconnecting…'; };
setInterval(() => { if ([...hosts.values()].some((h) => h.phase === 'running')) table(); }, 5000);
`;

const sha = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export interface LivePage { html: string; csp: string }

export function livePage(cluster: string): LivePage {
  const title = cluster.replace(/[^A-Za-z0-9._-]/g, '');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>kubebake: ${title}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>kubebake · <span id="cluster">${title}</span> <span id="verdict">waiting</span><span id="conn">connecting…</span></h1>
<svg id="diagram" role="img" aria-label="cluster topology" height="40"></svg>
<table>
<thead><tr><th>host</th><th>role</th><th>address</th><th title="what its next network boot does: install (armed) or boot the local disk; who may fetch its seed">install</th><th>state</th><th>progress</th><th>step timings</th></tr></thead>
<tbody id="hosts"></tbody>
</table>
<script>${SCRIPT}</script>
</body>
</html>
`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha(SCRIPT)}`,
    `style-src ${sha(STYLE)}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}
