// @ts-check
// The class dashboard. Everything that came from the network is written with textContent or as
// an attribute value, never as HTML; the CSP (default-src 'self') forbids inline scripts anyway.
// Its types are the API's contract, ../contract.ts; `npm run typecheck` checks this file
// against it (tsconfig.json here).
'use strict';

/** @typedef {import('../contract.ts').ClassResponse} ClassResponse */
/** @typedef {import('../contract.ts').ClassEvent} ClassEvent */
/** @typedef {import('../contract.ts').ReportRow} ReportRow */

const SVG = 'http://www.w3.org/2000/svg';
/** @typedef {import('../contract.ts').LearnerView} LearnerView */
/** @typedef {import('../contract.ts').Cell} Cell */
/** @typedef {import('../contract.ts').LearnerActivity} LearnerActivity */

/** @type {Record<ReportRow['status'], string>} */
const MARK = { pass: '✔', fail: '✘', error: '!' };
/** Every cell has a symbol as well as a colour: done and failing must differ in greyscale too. */
/** @type {Record<Cell, string>} */
const CELL = { done: '✔', solved: '◆', failing: '✘', current: '●', todo: '○', skipped: '–' };
/** A learner's state as a badge: a symbol and a word (no badge for active). */
/** @type {Record<LearnerActivity, string>} */
const STATE = { active: '', stuck: '⚠ stuck', idle: '◌ idle', finished: '✔ finished', left: '⇥ left' };
/** @type {ClassResponse | null} */
let view = null;
/** @type {number | null} the id of the learner whose table is open */
let selected = null;
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null;
/** @type {number | null} the moment (ms) the page shows instead of now: the scrubber's replay */
let replayAt = null;
/** @type {string[]} */
const feed = [];
/** ?view=projector (issue 22): large type, only Needs help, Common failures and the progress per step */
const PROJECTOR = new URLSearchParams(location.search).get('view') === 'projector';
/** In the projector view: so many stuck learners and common failures, then "and N more". */
const PROJECTED_HELP = 6;
const PROJECTED_FAILURES = 4;
const PROJECTED_NAMES = 8;

/**
 * The element with this id, of this type; a page without it is a broken page.
 * @template {Element} T
 * @param {string} id
 * @param {{ new (): T; prototype: T }} type
 * @returns {T}
 */
function byId(id, type) {
  const e = document.getElementById(id);
  if (!(e instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return e;
}

/**
 * el('td', { class: 'x', title: 't' }, 'text', child…): text children become text nodes.
 * @param {string} tag
 * @param {Record<string, string | number | boolean> | null} attrs
 * @param {...(string | number | Node)} children
 */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = String(v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  return e;
}

/** @param {string} iso */
function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
/** @param {number} ms */
const duration = (ms) => (ms < 60_000 ? `${Math.round(ms / 1000)}s` : ms < 3_600_000 ? `${Math.round(ms / 60_000)} min` : `${(ms / 3_600_000).toFixed(1)} h`);

/** @param {ClassResponse} view */
function renderHeader(view) {
  byId('class-name', HTMLElement).textContent = view.class.name;
  const alerts = byId('alerts', HTMLElement);
  alerts.hidden = view.alerts.length === 0;
  alerts.replaceChildren(...view.alerts.map((a) => el('li', { title: a.at }, `${new Date(a.at).toLocaleTimeString()} ${a.message}`)));
  const url = `${location.origin}`;
  byId('join-line', HTMLElement).textContent = `workshop classroom join ${url} ${view.class.joinCode} --name "Your Name"`;
  /** @param {LearnerActivity} s */
  const n = (s) => view.learners.filter((l) => l.state === s).length;
  byId('counts', HTMLElement).textContent = `${view.learners.length} learners · ${n('stuck')} stuck · ${n('idle')} idle · ${n('finished')} finished · ${n('left')} left · ${view.steps.length} steps`;
}

/** Above so many learners the grid draws only the rows in view, and a margin: 300 learners stay fast. */
const VIRTUAL_FROM = 60;
/** a row's height in a virtual grid (dashboard.css: .virtual rows) */
const ROW_PX = 24;
const MARGIN_ROWS = 20;

/**
 * The rows of the grid to draw: all of them, or (a big class) the ones in view and a margin.
 * @param {ClassResponse} view
 * @param {HTMLElement} scroller
 */
function gridWindow(view, scroller) {
  const n = view.learners.length;
  if (n <= VIRTUAL_FROM) return { first: 0, end: n };
  const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_PX) - MARGIN_ROWS);
  return { first, end: Math.min(n, first + Math.ceil(scroller.clientHeight / ROW_PX) + 2 * MARGIN_ROWS) };
}

/**
 * A spacer row standing for `rows` rows not drawn.
 * @param {number} rows
 */
function spacer(rows) {
  const tr = el('tr', { class: 'spacer', 'aria-hidden': 'true' });
  tr.style.height = `${rows * ROW_PX}px`;
  return tr;
}

/**
 * Moves the keyboard to the learner `i` rows away, scrolling a virtual grid to them.
 * @param {ClassResponse} view
 * @param {number} id
 * @param {number} by
 */
function moveFocus(view, id, by) {
  const i = view.learners.findIndex((x) => x.id === id) + by;
  const to = view.learners[i];
  if (!to) return;
  const scroller = byId('grid-scroll', HTMLElement);
  if (view.learners.length > VIRTUAL_FROM) {
    const top = i * ROW_PX;
    if (top < scroller.scrollTop) scroller.scrollTop = top;
    else if (top + 2 * ROW_PX > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + 2 * ROW_PX - scroller.clientHeight;
    renderGrid(view);
  }
  const row = byId('grid', HTMLTableElement).querySelector(`tbody tr[data-id="${to.id}"]`);
  if (row instanceof HTMLElement) row.focus();
}

/** @param {ClassResponse} view */
function renderGrid(view) {
  const grid = byId('grid', HTMLTableElement);
  const head = el('tr', {}, el('th', {}, 'learner'), el('th', {}, 'current step'), el('th', {}, 'time on it'), el('th', {}, 'attempts'), el('th', {}, 'hints'), el('th', {}, 'last seen'));
  for (const s of view.steps) head.append(el('th', { class: 'step', title: `${s.id}: ${s.title}` }, s.id));
  grid.tHead?.replaceChildren(head);
  const scroller = byId('grid-scroll', HTMLElement);
  scroller.classList.toggle('virtual', view.learners.length > VIRTUAL_FROM);
  const { first, end } = gridWindow(view, scroller);
  const rows = view.learners.slice(first, end).map((l) => {
    const name = el('td', { class: 'name' }, l.name);
    if (STATE[l.state]) name.append(el('span', { class: `badge state-${l.state}`, title: l.stuckReason || l.state }, STATE[l.state]));
    if (l.cleaned) name.append(el('span', { class: `badge cleaned`, title: `ran workshop clean ${ago(l.cleaned.at)}` }, l.cleaned.clean ? '⌫ cleaned' : '⌫ residue'));
    if (l.access === 'freed') name.append(el('span', { class: 'badge freed', title: 'the next join under this name takes this learner over' }, 'name freed'));
    const tr = el(
      'tr',
      { class: `state-${l.state} ${l.stuck ? 'stuck' : ''} ${selected === l.id ? 'selected' : ''}`, 'data-learner': l.name, 'data-id': l.id, 'data-state': l.state, tabindex: 0 },
      name,
      el('td', {}, l.current || 'finished'),
      el('td', {}, l.current ? duration(l.timeOnStepMs) : ''),
      el('td', {}, l.attempts),
      el('td', {}, `${l.hints} (${l.hintsTotal} in all)`),
      el('td', { title: l.lastSeen }, ago(l.lastSeen)),
    );
    l.cells.forEach((c, i) => {
      const step = view.steps[i];
      if (!step) return;
      tr.append(el('td', { class: 'c', 'data-step': step.id, 'data-state': c, title: `${step.id}: ${c}` }, el('span', { class: `cell ${c}`, 'aria-label': c }, CELL[c])));
    });
    tr.addEventListener('click', () => openLearner(l.id));
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        openLearner(l.id);
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        moveFocus(view, l.id, e.key === 'ArrowDown' ? 1 : -1);
      }
    });
    return tr;
  });
  // a redraw keeps the keyboard on the row it was on
  const focused = document.activeElement instanceof HTMLTableRowElement ? document.activeElement.dataset['id'] : undefined;
  grid.tBodies[0]?.replaceChildren(...(first > 0 ? [spacer(first)] : []), ...rows, ...(end < view.learners.length ? [spacer(view.learners.length - end)] : []));
  if (focused !== undefined) rows.find((r) => r.dataset['id'] === focused)?.focus();
}

/**
 * Opens a learner's check table, and keeps the keyboard with it.
 * @param {number} id
 */
function openLearner(id) {
  selected = id;
  render();
  byId('detail-title', HTMLElement).focus();
}

/** @param {ClassResponse} view */
function renderNeedsHelp(view) {
  const ids = PROJECTOR ? view.needsHelp.slice(0, PROJECTED_HELP) : view.needsHelp;
  const items = ids.flatMap((id) => {
    const l = view.learners.find((x) => x.id === id);
    if (!l) return [];
    const b = el('button', { type: 'button', class: 'help', 'data-id': l.id }, el('strong', {}, l.name), ` ⚠ ${duration(l.stuckFor * 1000)} on ${l.current || '?'}, ${l.attempts} attempts`);
    b.addEventListener('click', () => openLearner(l.id));
    return [el('li', {}, b)];
  });
  if (ids.length < view.needsHelp.length) items.push(el('li', { class: 'more' }, `and ${view.needsHelp.length - ids.length} more`));
  byId('needs-help', HTMLElement).replaceChildren(...(items.length ? items : [el('li', { class: 'none' }, 'No one is stuck right now.')]));
}

/** @param {ClassResponse} view */
function renderCommon(view) {
  const n = view.learners.length;
  const groups = PROJECTOR ? view.commonFailures.slice(0, PROJECTED_FAILURES) : view.commonFailures;
  /** @param {string[]} names */
  const who = (names) => (PROJECTOR && names.length > PROJECTED_NAMES ? `${names.slice(0, PROJECTED_NAMES).join(', ')} and ${names.length - PROJECTED_NAMES} more` : names.join(', '));
  const items = groups.map((f) =>
    el(
      'li',
      { 'data-step': f.step },
      el('span', { class: 'count' }, `${f.count} of ${n}`),
      ': ',
      el('strong', {}, f.check),
      ` (expected ${f.expected}) `,
      el('span', { class: 'who' }, `in ${f.step}: ${who(f.learners)} · ${Math.round(f.learnerMinutes)} learner-min`),
      ...(PROJECTOR ? [] : [el('ul', { class: 'members' }, ...f.members.map((m) => el('li', {}, `${m.name}: `, el('code', {}, m.actual))))]),
    ),
  );
  if (groups.length < view.commonFailures.length) items.push(el('li', { class: 'more' }, `and ${view.commonFailures.length - groups.length} more`));
  byId('common', HTMLElement).replaceChildren(...(items.length ? items : [el('li', { class: 'none' }, 'No failing checks right now.')]));
}

/** @param {ClassResponse} view */
function renderChart(view) {
  const n = Math.max(1, view.learners.length);
  // the projector's bars fill the width
  const w = PROJECTOR ? Math.max(8, Math.floor((document.documentElement.clientWidth - 60) / Math.max(1, view.steps.length))) : 14;
  const h = PROJECTOR ? 110 : 90;
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
    for (const [r, y, hh] of /** @type {const} */ ([[bg, 0, h], [bar, h - bh, bh]])) {
      r.setAttribute('x', String(i * w + 1));
      r.setAttribute('y', String(y));
      r.setAttribute('width', String(w - 2));
      r.setAttribute('height', String(hh));
      g.append(r);
    }
    const label = document.createElementNS(SVG, 'text');
    label.setAttribute('x', String(i * w + 2));
    label.setAttribute('y', String(h + (PROJECTOR ? 18 : 12)));
    label.textContent = String(passed);
    // a number wider than its bar is left to the bar's title
    g.append(title, ...(w >= 24 ? [label] : []));
    svg.append(g);
  });
  byId('chart', HTMLElement).replaceChildren(svg);
}

/** @param {ClassResponse} view */
function renderDetail(view) {
  const l = view.learners.find((x) => x.id === selected);
  const title = byId('detail-title', HTMLElement);
  const note = byId('detail-note', HTMLElement);
  const table = byId('detail', HTMLTableElement);
  const body = table.tBodies[0] ?? table.createTBody();
  byId('detail-actions', HTMLElement).hidden = !l;
  if (!l) {
    title.textContent = 'Checks';
    body.replaceChildren();
    return;
  }
  byId('free-name', HTMLButtonElement).disabled = l.access === 'freed';
  const watch = byId('watch-lab', HTMLAnchorElement);
  watch.hidden = !view.class.labs;
  watch.href = `/lab/instructor#watch=${l.id}`;
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
    for (const [k = '', v = ''] of fields) rows.push(el('tr', { class: r.status }, el('td', {}), el('td', { class: 'label' }, k), el('td', { class: 'value' }, v)));
  }
  body.replaceChildren(...rows);
}

function renderFeed() {
  byId('feed', HTMLElement).replaceChildren(...feed.map((t) => el('li', {}, t)));
}

/** Questions (issue 28): right on the first try, of those who answered. @param {ClassResponse} view */
function renderQuestions(view) {
  const items = view.questions.map((q) =>
    el('li', { 'data-question': `${q.step}#${q.question}` }, el('span', { class: 'count' }, `${q.firstTry} of ${q.answered}`), ' right on the first try: ', el('strong', {}, q.question), el('span', { class: 'who' }, ` in ${q.step}`)),
  );
  byId('questions', HTMLElement).replaceChildren(...(items.length ? items : [el('li', { class: 'none' }, 'No question answered yet.')]));
}

function render() {
  if (!view) return;
  renderHeader(view);
  renderNeedsHelp(view);
  renderCommon(view);
  renderQuestions(view);
  renderChart(view);
  document.body.dataset['lastEventId'] = String(view.lastEventId);
  // the projector shows nothing else: the rest is not drawn
  if (PROJECTOR) return;
  renderGrid(view);
  renderDetail(view);
  renderFeed();
  renderActs(view);
  renderDrills(view);
}

/** @returns {Promise<ClassResponse | null>} the class, or null when it could not be read */
async function refresh() {
  timer = null;
  lastRefresh = Date.now();
  // a replay of the past holds the page still; live events resume it with "Back to live"
  if (replayAt !== null) return view;
  let r;
  try {
    r = await fetch('/api/class', { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    // the server is down: the EventSource reconnects, and its first event redraws the page
    return view;
  }
  if (r.status === 401) {
    byId('live', HTMLElement).textContent = 'not signed in: open the instructor URL again';
    return null;
  }
  view = /** @type {ClassResponse} */ (await r.json());
  render();
  return view;
}

/** when the last redraw started (ms) */
let lastRefresh = 0;

/**
 * Many reports arrive at once in a busy room: redraw at most every 300 ms. A report after a quiet
 * moment is drawn at once, not 300 ms later.
 */
function soon() {
  if (timer === null) timer = setTimeout(refresh, Math.max(0, 300 - (Date.now() - lastRefresh)));
}

/**
 * The instructor's act on the selected learner: POST /api/learners/ID/remove or /free, after a confirmation.
 * @param {'remove' | 'free'} what
 */
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

/** @param {string} text */
function showNotice(text) {
  const n = byId('notice', HTMLElement);
  n.textContent = text;
  n.hidden = false;
}

/** @param {ClassEvent} e */
function describe(e) {
  if (e.type === 'joined') return e.how === 'rejoined' ? `${e.learner} joined again` : e.how === 'claimed' ? `${e.learner} joined, taking over the freed name` : `${e.learner} joined`;
  if (e.type === 'removed') return `${e.learner} was removed from the class`;
  if (e.type === 'freed') return `the name ${e.learner} was freed`;
  if (e.type === 'alert') return `limit reached: ${e.alert.limit}${e.learner ? ` (${e.learner})` : ''}`;
  if (e.type === 'act') {
    const a = e.act;
    if (a.act === 'message') return `message to ${a.label}: ${a.text}`;
    if (a.act === 'drill') return `drill round started on ${a.chapter} (${a.drills} drills)`;
    return a.step ? `hold at ${a.step}` : 'hold released';
  }
  const r = e.report;
  if (r.kind === 'cleaned') return `${new Date(r.at).toLocaleTimeString()} ${e.learner} ran workshop clean: ${r.outcome === 'pass' ? 'nothing left' : 'something was left'}`;
  if (r.kind === 'drilled' && r.drill) return `${new Date(r.at).toLocaleTimeString()} ${e.learner}: drill ${r.step} ${r.drill.state}${r.drill.state === 'started' ? '' : ` in ${Math.round(r.drill.ms / 1000)}s`}`;
  if (r.kind === 'asked') return `${new Date(r.at).toLocaleTimeString()} ${e.learner} raised a hand: ${r.question || '(no question)'}`;
  const what = r.kind === 'attempted' ? `${r.command} ${r.outcome}` : r.kind === 'passed' ? 'passed' : r.kind === 'hinted' ? `hint ${r.hints}` : r.kind;
  return `${new Date(r.at).toLocaleTimeString()} ${e.learner}: ${r.step} ${what}`;
}

async function start() {
  const first = await refresh();
  if (!first) return;
  // The browser resends Last-Event-ID on every reconnect; the server replays what was missed.
  const es = new EventSource(`/api/events?lastEventId=${first.lastEventId}`);
  const live = byId('live', HTMLElement);
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
  for (const type of ['joined', 'report', 'removed', 'freed', 'alert', 'act']) {
    es.addEventListener(type, (m) => {
      feed.unshift(describe(/** @type {ClassEvent} */ (JSON.parse(m.data))));
      feed.length = Math.min(feed.length, 30);
      soon();
    });
  }
  // Time on a step grows without events: recompute "stuck" now and then.
  setInterval(soon, 15_000);
}

// ---- The instructor acts (issue 22): hands up, messages, the hold ----

/**
 * The message form's recipients: everyone, each common failure, each learner. Kept when it still exists.
 * @param {ClassResponse} view
 */
function renderRecipients(view) {
  const to = byId('message-to', HTMLSelectElement);
  const was = to.value;
  const options = [el('option', { value: JSON.stringify({ all: true }) }, 'everyone')];
  for (const f of view.commonFailures) options.push(el('option', { value: JSON.stringify({ step: f.step, check: f.check }) }, `failing ${f.step}: ${f.check} (${f.count})`));
  for (const l of view.learners) options.push(el('option', { value: JSON.stringify({ name: l.name }) }, l.name));
  to.replaceChildren(...options);
  if (options.some((o) => o.getAttribute('value') === was)) to.value = was;
}

/** @param {ClassResponse} view */
function renderActs(view) {
  const hands = view.hands.flatMap((id) => {
    const l = view.learners.find((x) => x.id === id);
    if (!l || !l.hand) return [];
    const open = el('button', { type: 'button', class: 'hand', 'data-id': l.id }, el('strong', {}, l.name), ` ✋ ${ago(l.hand.at)}: `, l.hand.question || '(no question)');
    open.addEventListener('click', () => openLearner(l.id));
    const answer = el('button', { type: 'button', class: 'answer' }, `Answer ${l.name}`);
    answer.addEventListener('click', () => {
      byId('message-to', HTMLSelectElement).value = JSON.stringify({ name: l.name });
      byId('message-text', HTMLTextAreaElement).focus();
    });
    return [el('li', { 'data-learner': l.name }, open, ' ', answer)];
  });
  byId('hands', HTMLElement).replaceChildren(...(hands.length ? hands : [el('li', { class: 'none' }, 'No hand is up.')]));
  if (document.activeElement !== byId('message-to', HTMLSelectElement)) renderRecipients(view);
  const step = byId('hold-step', HTMLSelectElement);
  if (step.options.length !== view.steps.length) step.replaceChildren(...view.steps.map((s) => el('option', { value: s.id }, s.id)));
  byId('hold-state', HTMLElement).textContent = view.hold ? `The class waits at ${view.hold.step} (since ${ago(view.hold.since)}).` : 'No hold: everyone moves on freely.';
  byId('release', HTMLButtonElement).disabled = view.hold === null;
  byId('messages', HTMLElement).replaceChildren(...view.messages.slice().reverse().map((m) => el('li', { title: m.to.join(', ') }, `${new Date(m.at).toLocaleTimeString()} to ${m.label} (${m.to.length}): `, m.text)));
}

/**
 * POSTs an act as JSON; says what went wrong in the notice, and redraws.
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<unknown>}
 */
async function postAct(path, body) {
  const r = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => null);
  const answer = r ? await r.json().catch(() => ({})) : {};
  if (!r || !r.ok) {
    showNotice(`Could not do it: ${r ? answer.error || r.status : 'the server is unreachable'}`);
    return null;
  }
  await refresh();
  return answer;
}

byId('message-form', HTMLFormElement).addEventListener('submit', (e) => {
  e.preventDefault();
  const text = byId('message-text', HTMLTextAreaElement);
  void postAct('/api/messages', { to: JSON.parse(byId('message-to', HTMLSelectElement).value), text: text.value }).then((a) => {
    if (!a) return;
    text.value = '';
    byId('message-said', HTMLElement).textContent = `Sent to ${/** @type {{ to: string[] }} */ (a).to.join(', ')}.`;
  });
});
/** @type {Record<import('../contract.ts').DrillCell['state'], string>} */
const DRILL_MARK = { fixed: '✔ fixed', 'gave-up': '✘ gave up', abandoned: '– stopped', on: '● on it' };

/** The drill round (issue 28): a row per learner, a column per drill of the round, who fixed which and how fast. @param {ClassResponse} view */
function renderDrills(view) {
  const chapter = byId('drill-chapter', HTMLSelectElement);
  const chapters = [...new Set(view.steps.map((s) => s.id.split('/')[0] ?? ''))];
  if (chapter.options.length !== chapters.length) chapter.replaceChildren(...chapters.map((c) => el('option', { value: c }, c)));
  const r = view.drillRound;
  const table = byId('drills', HTMLTableElement);
  const head = table.tHead ?? table.createTHead();
  const body = table.tBodies[0] ?? table.createTBody();
  if (!r) {
    byId('drill-state', HTMLElement).textContent = 'No drill round yet.';
    head.replaceChildren();
    body.replaceChildren();
    return;
  }
  // everyone meets the same drills (one seed): a column per drill, in the order learners met them
  const columns = [...new Set(r.learners.flatMap((l) => l.drills.map((d) => `${d.step} ${d.mutant}`)))];
  byId('drill-state', HTMLElement).textContent = `Round on ${r.chapter} (${r.drills} drills), started ${ago(r.since)}: ${r.learners.length} learner(s) on it, ${r.fixedAll} fixed every drill.`;
  head.replaceChildren(el('tr', {}, el('th', { scope: 'col' }, 'Learner'), ...columns.map((c) => el('th', { scope: 'col', class: 'drill' }, c.replace(' ', ': ')))));
  body.replaceChildren(
    ...r.learners.map((l) =>
      el(
        'tr',
        { 'data-learner': l.name },
        el('th', { scope: 'row' }, l.name),
        ...columns.map((c) => {
          const d = l.drills.find((x) => `${x.step} ${x.mutant}` === c);
          if (!d) return el('td', {}, '');
          const took = d.seconds === null ? '' : ` in ${d.seconds < 60 ? `${d.seconds}s` : `${Math.floor(d.seconds / 60)}m ${d.seconds % 60}s`}`;
          return el('td', { class: d.state, 'data-drill': c, title: `${d.attempts} failed next, ${d.hints} hint(s)` }, `${DRILL_MARK[d.state]}${took}`);
        }),
      ),
    ),
  );
}

byId('drill-start', HTMLButtonElement).addEventListener('click', () => {
  const chapter = byId('drill-chapter', HTMLSelectElement).value;
  const drills = Number(byId('drill-count', HTMLInputElement).value);
  if (!window.confirm(`Start a break-it round on ${chapter} (${drills} drills) for the whole class?`)) return;
  void postAct('/api/drill-round', { chapter, drills });
});
byId('hold', HTMLButtonElement).addEventListener('click', () => void postAct('/api/hold', { step: byId('hold-step', HTMLSelectElement).value }));
byId('release', HTMLButtonElement).addEventListener('click', () => void postAct('/api/release', {}));

// ---- end of the instructor acts ----

// a virtual grid draws the rows that scroll into view, once a frame
{
  let pending = false;
  byId('grid-scroll', HTMLElement).addEventListener('scroll', () => {
    if (pending || !view || view.learners.length <= VIRTUAL_FROM) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (view) renderGrid(view);
    });
  });
}

// ---- The projector view (issue 22) ----
if (PROJECTOR) document.documentElement.classList.add('projector');
{
  const to = byId('view-switch', HTMLAnchorElement);
  to.textContent = PROJECTOR ? 'Full view' : 'Projector view';
  to.href = PROJECTOR ? '/' : '/?view=projector';
}

byId('free-name', HTMLButtonElement).addEventListener('click', () => void act('free'));
byId('remove-learner', HTMLButtonElement).addEventListener('click', () => void act('remove'));
void start();

// ---- The room over time (issue 22): the steps passed against time, and a scrubber that replays
// the whole page to any past moment from the stored events (GET /api/history, /api/class/at) ----

/** @type {{ from: string | null, to: string, passes: Array<{ at: string, step: string }> } | null} */
let roomHistory = null;

/** Steps passed in the class against time: one step line, up by one at each learner's first pass of a step. */
function renderSpark() {
  const box = byId('spark', HTMLElement);
  if (!roomHistory || roomHistory.from === null) {
    box.replaceChildren(el('p', { class: 'note' }, 'Nothing has happened yet.'));
    return;
  }
  const t0 = Date.parse(roomHistory.from);
  const span = Math.max(1, Date.parse(roomHistory.to) - t0);
  const w = 320;
  const h = 48;
  const n = Math.max(1, roomHistory.passes.length);
  // a step line: flat until a pass, then up by one
  const y = (/** @type {number} */ k) => Math.round(h - (k / n) * h);
  const pts = [`0,${h}`, ...roomHistory.passes.flatMap((p, i) => {
    const x = Math.round(((Date.parse(p.at) - t0) / span) * w);
    return [`${x},${y(i)}`, `${x},${y(i + 1)}`];
  }), `${w},${y(roomHistory.passes.length)}`];
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(w));
  svg.setAttribute('height', String(h + 2));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${roomHistory.passes.length} steps passed in the class since ${new Date(t0).toLocaleTimeString()}`);
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', pts.join(' '));
  line.setAttribute('class', 'spark');
  svg.append(line);
  if (replayAt !== null) {
    const x = Math.round(((replayAt - t0) / span) * w);
    const mark = document.createElementNS(SVG, 'line');
    for (const [k, v] of [['x1', x], ['x2', x], ['y1', 0], ['y2', h]]) mark.setAttribute(String(k), String(v));
    mark.setAttribute('class', 'mark');
    svg.append(mark);
  }
  box.replaceChildren(svg);
}

async function loadHistory() {
  const r = await fetch('/api/history', { credentials: 'same-origin', cache: 'no-store' }).catch(() => null);
  if (!r || !r.ok) return;
  roomHistory = await r.json();
  renderSpark();
}

/**
 * Shows the class as it was at `at` (ms), or live again with null.
 * @param {number | null} at
 */
async function replay(at) {
  const banner = byId('replaying', HTMLElement);
  const out = byId('scrub-at', HTMLElement);
  replayAt = at;
  byId('scrub-live', HTMLButtonElement).hidden = at === null;
  if (at === null) {
    banner.hidden = true;
    out.textContent = 'now (live)';
    byId('scrub', HTMLInputElement).value = '1000';
    await refresh();
    renderSpark();
    return;
  }
  const when = new Date(at).toISOString();
  const r = await fetch(`/api/class/at?t=${encodeURIComponent(when)}`, { credentials: 'same-origin', cache: 'no-store' }).catch(() => null);
  if (!r || !r.ok || replayAt !== at) return;
  view = /** @type {ClassResponse} */ (await r.json());
  const text = `Replaying the room at ${new Date(at).toLocaleTimeString()}: the page shows the past, live updates wait ("Back to live").`;
  out.textContent = new Date(at).toLocaleTimeString();
  banner.textContent = text;
  banner.hidden = false;
  render();
  renderSpark();
}

/** @type {ReturnType<typeof setTimeout> | null} */
let scrubTimer = null;
byId('scrub', HTMLInputElement).addEventListener('input', () => {
  if (scrubTimer !== null) clearTimeout(scrubTimer);
  scrubTimer = setTimeout(() => {
    scrubTimer = null;
    const v = Number(byId('scrub', HTMLInputElement).value);
    if (!roomHistory || roomHistory.from === null || v >= 1000) return void replay(null);
    const t0 = Date.parse(roomHistory.from);
    void replay(t0 + ((Date.parse(roomHistory.to) - t0) * v) / 1000);
  }, 120);
});
// the range ends at the moment the instructor takes hold of it
byId('scrub', HTMLInputElement).addEventListener('pointerdown', () => void loadHistory());
byId('scrub', HTMLInputElement).addEventListener('focus', () => void loadHistory());
byId('scrub-live', HTMLButtonElement).addEventListener('click', () => void replay(null));
if (!PROJECTOR) {
  void loadHistory();
  setInterval(() => replayAt === null && void loadHistory(), 30_000);
}
