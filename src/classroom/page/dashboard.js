// The class dashboard. Everything that came from the network is written with textContent or as
// an attribute value, never as HTML; the CSP (default-src 'self') forbids inline scripts anyway.
'use strict';

const SVG = 'http://www.w3.org/2000/svg';
const MARK = { pass: '✔', fail: '✘', error: '!' };
let view = null;
let selected = null;
let timer = null;
const feed = [];

/** el('td', { class: 'x', title: 't' }, 'text', child…): text children become text nodes. */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  return e;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
const duration = (ms) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

function renderHeader() {
  document.getElementById('class-name').textContent = view.class.name;
  const alerts = document.getElementById('alerts');
  alerts.hidden = view.alerts.length === 0;
  alerts.replaceChildren(...view.alerts.map((a) => el('li', { title: a.at }, `${new Date(a.at).toLocaleTimeString()} ${a.message}`)));
  const url = `${location.origin}`;
  document.getElementById('join-line').textContent = `workshop classroom join ${url} ${view.class.joinCode} --name "Your Name"`;
  const stuck = view.learners.filter((l) => l.stuck).length;
  document.getElementById('counts').textContent = `${view.learners.length} learners · ${stuck} stuck · ${view.steps.length} steps`;
}

function renderGrid() {
  const grid = document.getElementById('grid');
  const head = el('tr', {}, el('th', {}, 'learner'), el('th', {}, 'current step'), el('th', {}, 'time on it'), el('th', {}, 'attempts'), el('th', {}, 'hints'), el('th', {}, 'last seen'));
  for (const s of view.steps) head.append(el('th', { class: 'step', title: `${s.id}: ${s.title}` }, s.id));
  grid.tHead.replaceChildren(head);
  const rows = view.learners.map((l) => {
    const name = el('td', { class: 'name' }, l.name);
    if (l.stuck) name.append(el('span', { class: 'badge', title: l.stuckReason || '' }, 'stuck'));
    if (l.state === 'freed') name.append(el('span', { class: 'badge freed', title: 'the next join under this name takes this learner over' }, 'name freed'));
    const tr = el(
      'tr',
      { class: `${l.stuck ? 'stuck' : ''} ${selected === l.id ? 'selected' : ''}`, 'data-learner': l.name, 'data-id': l.id },
      name,
      el('td', {}, l.current || 'finished'),
      el('td', {}, l.current ? duration(l.timeOnStepMs) : ''),
      el('td', {}, l.attempts),
      el('td', {}, `${l.hints} (${l.hintsTotal} in all)`),
      el('td', { title: l.lastSeen }, ago(l.lastSeen)),
    );
    l.cells.forEach((c, i) => {
      const step = view.steps[i];
      tr.append(el('td', { class: 'c', 'data-step': step.id, 'data-state': c, title: `${step.id}: ${c}` }, el('span', { class: `cell ${c}` })));
    });
    tr.addEventListener('click', () => {
      selected = l.id;
      render();
    });
    return tr;
  });
  grid.tBodies[0].replaceChildren(...rows);
}

function renderCommon() {
  const n = view.learners.length;
  const items = view.commonFailures.map((f) =>
    el(
      'li',
      { 'data-step': f.step },
      el('span', { class: 'count' }, `${f.count} of ${n}`),
      ': ',
      el('strong', {}, f.check),
      ` (expected ${f.expected}, actual ${f.actual}) `,
      el('span', { class: 'who' }, `in ${f.step}: ${f.learners.join(', ')}`),
    ),
  );
  document.getElementById('common').replaceChildren(...(items.length ? items : [el('li', { class: 'none' }, 'No failing checks right now.')]));
}

function renderChart() {
  const n = Math.max(1, view.learners.length);
  const w = 14;
  const h = 90;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(view.steps.length * w + 30));
  svg.setAttribute('height', String(h + 20));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'learners who passed each step');
  view.steps.forEach((s, i) => {
    const passed = view.passed[i] || 0;
    const bh = Math.round((passed / n) * h);
    const g = document.createElementNS(SVG, 'g');
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${s.id}: ${passed} of ${view.learners.length} passed`;
    const bg = document.createElementNS(SVG, 'rect');
    bg.setAttribute('class', 'bg');
    const bar = document.createElementNS(SVG, 'rect');
    bar.setAttribute('class', 'bar');
    for (const [r, y, hh] of [[bg, 0, h], [bar, h - bh, bh]]) {
      r.setAttribute('x', String(i * w + 1));
      r.setAttribute('y', String(y));
      r.setAttribute('width', String(w - 2));
      r.setAttribute('height', String(hh));
      g.append(r);
    }
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', String(i * w + 2));
    label.setAttribute('y', String(h + 12));
    label.textContent = String(passed);
    g.append(title, label);
    svg.append(g);
  });
  document.getElementById('chart').replaceChildren(svg);
}

function renderDetail() {
  const l = view.learners.find((x) => x.id === selected);
  const title = document.getElementById('detail-title');
  const note = document.getElementById('detail-note');
  const body = document.getElementById('detail').tBodies[0];
  document.getElementById('detail-actions').hidden = !l;
  if (!l) {
    title.textContent = 'Checks';
    body.replaceChildren();
    return;
  }
  document.getElementById('free-name').disabled = l.state === 'freed';
  title.textContent = `Checks of ${l.name}`;
  if (!l.table) {
    note.textContent = l.current ? `${l.current}: no failing check right now.` : 'Finished every step.';
    body.replaceChildren();
    return;
  }
  note.textContent = `${l.table.step}, ${ago(l.table.at)}: ${l.table.rows.filter((r) => r.status === 'pass').length}/${l.table.rows.length} checks passed`;
  const rows = [];
  for (const r of l.table.rows) {
    rows.push(el('tr', { class: r.status }, el('td', { class: 'mark' }, MARK[r.status] || '?'), el('td', { colspan: 2 }, r.check)));
    if (r.status === 'pass') continue;
    const fields = r.status === 'error' ? [['error', r.actual]] : [['expected', r.expected], ['actual', r.actual], ...(r.hint ? [['hint', r.hint]] : [])];
    for (const [k, v] of fields) rows.push(el('tr', { class: r.status }, el('td', {}), el('td', { class: 'label' }, k), el('td', { class: 'value' }, v)));
  }
  body.replaceChildren(...rows);
}

function renderFeed() {
  document.getElementById('feed').replaceChildren(...feed.map((t) => el('li', {}, t)));
}

function render() {
  if (!view) return;
  renderHeader();
  renderCommon();
  renderChart();
  renderGrid();
  renderDetail();
  renderFeed();
}

async function refresh() {
  timer = null;
  let r;
  try {
    r = await fetch('/api/class', { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    // the server is down: the EventSource reconnects, and its first event redraws the page
    return view;
  }
  if (r.status === 401) {
    document.getElementById('live').textContent = 'not signed in: open the instructor URL again';
    return;
  }
  view = await r.json();
  render();
  return view;
}

/** Many reports arrive at once in a busy room: redraw at most every 300 ms. */
function soon() {
  if (timer === null) timer = setTimeout(refresh, 300);
}

/** The instructor's act on the selected learner: POST /api/learners/ID/remove or /free, after a confirmation. */
async function act(what) {
  const l = view && view.learners.find((x) => x.id === selected);
  if (!l) return;
  const question = what === 'remove' ? `Remove ${l.name} from the class? Their reports are deleted, and the name is free for someone else.` : `Free the name ${l.name}? Their token stops working, and the next join under this name takes the learner and their progress over.`;
  if (!window.confirm(question)) return;
  const r = await fetch(`/api/learners/${l.id}/${what}`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{}' }).catch(() => null);
  if (!r || !r.ok) {
    const why = r ? ((await r.json().catch(() => ({}))).error || r.status) : 'the server is unreachable';
    showNotice(`Could not ${what === 'remove' ? 'remove' : 'free'} ${l.name}: ${why}`);
    return;
  }
  if (what === 'remove') selected = null;
  await refresh();
}

function showNotice(text) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.hidden = false;
}

function describe(e) {
  if (e.type === 'joined') return e.how === 'rejoined' ? `${e.learner} joined again` : e.how === 'claimed' ? `${e.learner} joined, taking over the freed name` : `${e.learner} joined`;
  if (e.type === 'removed') return `${e.learner} was removed from the class`;
  if (e.type === 'freed') return `the name ${e.learner} was freed`;
  if (e.type === 'alert') return `limit reached: ${e.alert.limit}${e.learner ? ` (${e.learner})` : ''}`;
  const r = e.report;
  const what = r.kind === 'attempted' ? `${r.command} ${r.outcome}` : r.kind === 'passed' ? 'passed' : r.kind === 'hinted' ? `hint ${r.hints}` : r.kind;
  return `${new Date(r.at).toLocaleTimeString()} ${e.learner}: ${r.step} ${what}`;
}

async function start() {
  const first = await refresh();
  if (!first) return;
  // The browser resends Last-Event-ID on every reconnect; the server replays what was missed.
  const es = new EventSource(`/api/events?lastEventId=${first.lastEventId}`);
  const live = document.getElementById('live');
  es.addEventListener('open', () => {
    live.textContent = 'live';
    live.className = 'live on';
  });
  es.addEventListener('error', () => {
    live.textContent = 'reconnecting…';
    live.className = 'live off';
    // A refused stream is not retried by the browser: a 401 (a server on a new database has a new token) says so.
    if (es.readyState === EventSource.CLOSED) void refresh();
  });
  // The server's newest event is older than the last one this page saw: it runs on another database.
  es.addEventListener('restarted', () => {
    feed.length = 0;
    showNotice('The class server restarted on another database (a fresh --db, or one restored from a copy): this view starts over from its events.');
    soon();
  });
  for (const type of ['joined', 'report', 'removed', 'freed', 'alert']) {
    es.addEventListener(type, (m) => {
      feed.unshift(describe(JSON.parse(m.data)));
      feed.length = Math.min(feed.length, 30);
      soon();
    });
  }
  // Time on a step grows without events: recompute "stuck" now and then.
  setInterval(soon, 15_000);
}

document.getElementById('free-name').addEventListener('click', () => void act('free'));
document.getElementById('remove-learner').addEventListener('click', () => void act('remove'));
void start();
