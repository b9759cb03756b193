// The learner's lab page: join with the code and a name, then the step's text, their own terminal
// (a VM of their own, through the class server's WebSocket) and their checks, live.
import { el, makeTerminal, wsUrl } from '/lab/assets/labs-term.js';

const $ = (id) => document.getElementById(id);
const status = (text) => ($('status').textContent = text);
let term;
let socket;
let retry = 1000;

/** A request to the class server; status 0 when it cannot be reached (restarting, network down). */
async function api(path, init) {
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    return { status: 0, body: { error: 'the class server cannot be reached' } };
  }
  let body = {};
  try {
    body = await res.json();
  } catch {
    // no JSON
  }
  return { status: res.status, body };
}

const post = (path, body, headers = {}) => api(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function join(ev) {
  ev.preventDefault();
  $('join-error').textContent = '';
  const j = await post('/api/join', { code: $('code').value.trim(), name: $('name').value });
  if (!j.body.token) {
    $('join-error').textContent = j.body.error ?? `the server said ${j.status}`;
    return;
  }
  const l = await post('/lab/api/login', {}, { authorization: `Bearer ${j.body.token}` });
  if (l.status !== 200) {
    $('join-error').textContent = l.body.error ?? `the server said ${l.status}`;
    return;
  }
  $('join').hidden = true;
  await load();
}

function showStep(step) {
  $('step-id').textContent = step ? step.id : '';
  $('step-title').textContent = step ? step.title : 'No step';
  // the pack's own chapter.md, rendered by the class server (the instructor's text, not a learner's)
  $('step-text').innerHTML = step ? step.html : '';
}

function showReport(r) {
  if (!r || (r.rows.length === 0 && r.kind !== 'passed')) return;
  if (r.rows.length > 0) {
    const tbody = $('check-table').querySelector('tbody');
    tbody.replaceChildren();
    for (const row of r.rows) {
      const tr = el('tr', undefined, row.status);
      tr.append(el('td', row.status === 'pass' ? '✔' : '✘'), el('td', row.check), el('td', row.expected), el('td', row.actual));
      tbody.append(tr);
    }
    $('check-table').hidden = false;
    $('no-checks').hidden = true;
  }
  const outcome = r.kind === 'passed' ? 'pass' : (r.outcome ?? '');
  $('check-outcome').textContent = `${r.step}: ${outcome === 'pass' ? 'passed' : outcome === 'fail' ? 'failed' : outcome}`;
  $('check-outcome').className = `outcome-${outcome}`;
}

async function load() {
  const me = await api('/lab/api/me');
  if (me.status === 200 && me.body.learner === null) {
    status('not joined');
    $('join').hidden = false;
    return;
  }
  if (me.status !== 200) {
    status(me.body.error ?? `the server said ${me.status}`);
    return;
  }
  $('who').textContent = me.body.learner.name;
  if (me.body.lab.kind === 'full') {
    $('full').textContent = me.body.lab.message;
    $('full').hidden = false;
    status('no lab');
    return;
  }
  $('lab').hidden = false;
  showStep(me.body.step);
  showReport(me.body.report);
  if (!term) {
    ({ term } = makeTerminal($('term')));
    term.onData((d) => socket?.readyState === WebSocket.OPEN && socket.send(new TextEncoder().encode(d)));
    term.onResize(({ cols, rows }) => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: 'resize', cols, rows })));
    window.labTerminal = term;
  }
  await connect();
}

function reconnectLater() {
  status('disconnected: reconnecting…');
  setTimeout(() => void connect(), retry);
  retry = Math.min(retry * 2, 30_000);
}

async function connect() {
  const t = await post('/lab/api/ticket', {});
  // the server is away (a restart, a dropped network): keep trying, as after a closed socket
  if (t.status === 0 || t.status >= 502) return reconnectLater();
  if (t.status !== 200) {
    status(t.body.error ?? `the server said ${t.status}`);
    return;
  }
  status('connecting…');
  const ws = new WebSocket(wsUrl(`/lab/api/terminal?ticket=${encodeURIComponent(t.body.ticket)}&cols=${term.cols}&rows=${term.rows}`));
  ws.binaryType = 'arraybuffer';
  socket = ws;
  ws.onmessage = (m) => {
    if (typeof m.data !== 'string') return term.write(new Uint8Array(m.data));
    const msg = JSON.parse(m.data);
    if (msg.type === 'status') status(msg.text === 'booting' ? 'your lab is booting…' : 'attaching…');
    else if (msg.type === 'ready') {
      retry = 1000;
      status(msg.restored?.kind === 'restored' ? `connected (your lab was restarted: ${msg.restored.step} rebuilt)` : 'connected');
      $('banner').hidden = !msg.instructor;
      term.focus();
    } else if (msg.type === 'instructor') $('banner').hidden = !msg.typing;
    else if (msg.type === 'report') {
      showReport(msg.report);
      if (msg.report.kind === 'passed' || msg.report.kind === 'started' || msg.report.kind === 'reset') void refreshStep();
    } else if (msg.type === 'error') status(msg.message);
  };
  ws.onclose = () => {
    if (socket === ws) reconnectLater();
  };
}

async function refreshStep() {
  const me = await api('/lab/api/me');
  if (me.status === 200) showStep(me.body.step);
}

$('join').addEventListener('submit', (ev) => void join(ev));
void load();
