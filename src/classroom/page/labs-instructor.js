// The instructor's labs: every learner's lab, a live read-only view of a terminal, a take-over
// (logged, and the learner's page says "your instructor is typing"), resets, and the replay of a
// recording on a timeline of the learner's commands and check events.
import { el, makeTerminal, wsUrl } from '/lab/assets/labs-term.js';
import { isTerminalReport } from '/lab/assets/labs-reports.js';

const $ = (id) => document.getElementById(id);
const { term } = makeTerminal($('term'), { readOnly: true });
window.labTerminal = term;
let socket = null;
let current = null; // { learner, name, mode: 'watch' | 'takeover' | 'replay' }
let replay = null;

/** keys typed in a take-over before its socket is open: sent once it is, never dropped */
let pending = [];

term.onData((d) => {
  // the learner's page answers the terminal's queries; this page's answers would be typed text
  if (current?.mode !== 'takeover' || !socket || isTerminalReport(d)) return;
  const bytes = new TextEncoder().encode(d);
  if (socket.readyState === WebSocket.OPEN) socket.send(bytes);
  else if (socket.readyState === WebSocket.CONNECTING) pending.push(bytes);
});

async function api(path, init) {
  const res = await fetch(path, init).catch(() => {
    throw new Error('the class server cannot be reached: retrying');
  });
  const body = res.headers.get('content-type')?.startsWith('application/json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(body.error ?? `${path}: ${res.status}`);
  return body;
}

function stopAll() {
  if (socket) {
    const s = socket;
    socket = null;
    s.close();
  }
  if (replay) clearTimeout(replay.timer);
  replay = null;
  for (const id of ['play', 'seek', 'timeline', 'giveback']) $(id).hidden = true;
  $('takeover').hidden = false;
}

function open(learner, name, mode) {
  stopAll();
  current = { learner, name, mode };
  $('viewer').hidden = false;
  $('viewing').textContent = name;
  $('mode').textContent = mode === 'takeover' ? 'you are typing in the learner’s terminal (logged)' : 'watching, read-only';
  $('takeover').hidden = mode === 'takeover';
  $('giveback').hidden = mode !== 'takeover';
  term.options.disableStdin = mode !== 'takeover';
  term.reset();
  const ws = new WebSocket(wsUrl(`/lab/api/watch/${encodeURIComponent(learner)}?mode=${mode}`));
  ws.binaryType = 'arraybuffer';
  socket = ws;
  pending = [];
  ws.onopen = () => {
    if (socket !== ws) return;
    for (const b of pending) ws.send(b);
    pending = [];
  };
  ws.onmessage = (m) => {
    if (typeof m.data !== 'string') return term.write(new Uint8Array(m.data));
    const msg = JSON.parse(m.data);
    if (msg.type === 'error') $('status').textContent = msg.message;
  };
  ws.onclose = () => {
    if (socket === ws) $('mode').textContent = 'the connection closed';
  };
  if (mode === 'takeover') term.focus();
  void refresh();
}

// ---- replay ------------------------------------------------------------------------------------

function parseCast(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = JSON.parse(lines[0]);
  return { header, events: lines.slice(1).map((l) => JSON.parse(l)) };
}

/** Shows the recording as it was at `t` seconds: everything up to it written at once. */
function seek(t) {
  term.reset();
  term.resize(replay.header.width, replay.header.height);
  let out = '';
  let i = 0;
  for (; i < replay.events.length && replay.events[i][0] <= t; i++) {
    const [, code, data] = replay.events[i];
    if (code === 'o') out += data;
    else if (code === 'r') {
      term.write(out);
      out = '';
      const [c, r] = data.split('x').map(Number);
      if (c > 0 && r > 0) term.resize(c, r);
    }
  }
  term.write(out);
  replay.i = i;
  replay.t = t;
  $('seek').value = String(t);
  $('clock').textContent = `${t.toFixed(1)} s / ${replay.end.toFixed(1)} s`;
}

function playOn() {
  if (!replay?.playing) return;
  const e = replay.events[replay.i];
  if (!e) {
    replay.playing = false;
    $('play').textContent = 'Play';
    return;
  }
  // idle gaps are cut to 1 s: a replay shows the typing, not the thinking
  const wait = Math.min(1, Math.max(0, e[0] - replay.t)) * 1000;
  replay.timer = setTimeout(() => {
    if (e[1] === 'o') term.write(e[2]);
    replay.t = e[0];
    replay.i++;
    $('seek').value = String(e[0]);
    $('clock').textContent = `${e[0].toFixed(1)} s / ${replay.end.toFixed(1)} s`;
    playOn();
  }, wait);
}

async function openReplay(learner, name) {
  stopAll();
  current = { learner, name, mode: 'replay' };
  $('viewer').hidden = false;
  $('viewing').textContent = `${name}: recording`;
  $('mode').textContent = 'replay';
  $('takeover').hidden = true;
  term.options.disableStdin = true;
  const [text, tl] = await Promise.all([api(`/lab/api/labs/${learner}/recording`), api(`/lab/api/labs/${learner}/timeline`)]);
  const cast = parseCast(text);
  const end = cast.events.at(-1)?.[0] ?? 0;
  replay = { header: cast.header, events: cast.events, i: 0, t: 0, end, playing: false, timer: 0 };
  $('seek').max = String(end);
  for (const id of ['play', 'seek', 'timeline']) $(id).hidden = false;
  const list = $('timeline');
  list.replaceChildren();
  for (const e of tl.timeline) {
    const li = el('li', undefined, e.outcome ?? e.kind);
    const b = el('button', `${e.t.toFixed(1)} s  ${e.label}`);
    b.type = 'button';
    b.addEventListener('click', () => seek(e.t));
    li.append(b);
    if (e.commands?.length) li.append(el('div', `after: ${e.commands.join('  ←  ')}`, 'note'));
    list.append(li);
  }
  seek(end);
}

$('play').addEventListener('click', () => {
  if (!replay) return;
  replay.playing = !replay.playing;
  $('play').textContent = replay.playing ? 'Pause' : 'Play';
  if (replay.playing) {
    if (replay.i >= replay.events.length) seek(0);
    playOn();
  } else clearTimeout(replay.timer);
});
$('seek').addEventListener('input', () => replay && seek(Number($('seek').value)));
$('takeover').addEventListener('click', () => current && open(current.learner, current.name, 'takeover'));
$('giveback').addEventListener('click', () => current && open(current.learner, current.name, 'watch'));
$('stop').addEventListener('click', () => {
  stopAll();
  current = null;
  $('viewer').hidden = true;
});

// ---- the list ----------------------------------------------------------------------------------

async function reset(learner, to) {
  const what = to === 'base' ? 'a fresh VM from the base image (everything in the lab is lost)' : 'the learner’s current step rebuilt with goto --restore';
  if (!confirm(`Reset this lab to ${what}?`)) return;
  try {
    await api(`/lab/api/labs/${learner}/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to }) });
  } catch (err) {
    $('status').textContent = err.message;
  }
  void refresh();
}

async function refresh() {
  let data;
  try {
    data = await api('/lab/api/labs');
  } catch (err) {
    $('status').textContent = err.message;
    return;
  }
  $('counts').textContent = `${data.labs.length} of ${data.capacity}`;
  const tbody = $('labs').querySelector('tbody');
  tbody.replaceChildren();
  for (const l of data.labs) {
    const tr = el('tr');
    if (l.learner !== null) tr.dataset.learner = l.name ?? l.learner;
    if (l.learner !== null) tr.dataset.id = l.learner;
    const state = `${l.phase}${l.attached ? ', attached' : ''}${l.takenOver ? ', taken over' : ''}`;
    const acts = el('td');
    if (l.learner !== null) {
      const add = (label, fn) => {
        const b = el('button', label);
        b.type = 'button';
        b.dataset.act = label;
        b.addEventListener('click', fn);
        acts.append(b);
      };
      add('Watch', () => open(l.learner, l.name ?? l.learner, 'watch'));
      add('Replay', () => openReplay(l.learner, l.name ?? l.learner).catch((err) => ($('status').textContent = err.message)));
      add('Rebuild step', () => void reset(l.learner, 'step'));
      add('Reset to base', () => void reset(l.learner, 'base'));
    }
    tr.append(el('td', l.name ?? (l.learner === null ? '(warm, waiting)' : `learner ${l.learner}`)), el('td', `${l.vm} · ${state}`), acts);
    tbody.append(tr);
  }
  const log = $('log');
  log.replaceChildren(...data.log.slice().reverse().map((e) => el('li', `${e.at.slice(11, 19)} ${e.learner}: ${e.what}`)));
}

/** The dashboard links here with #watch=ID: that learner's terminal opens, read-only. */
async function openFromHash() {
  await refresh();
  const id = /^#watch=(\d+)$/.exec(location.hash)?.[1];
  const row = id === undefined ? null : document.querySelector(`#labs tbody tr[data-id="${id}"]`);
  if (row instanceof HTMLElement) open(id, row.dataset.learner ?? id, 'watch');
  else if (id !== undefined) $('status').textContent = 'that learner holds no lab (yet)';
}

void openFromHash();
setInterval(() => void refresh(), 3000);
