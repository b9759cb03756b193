// The terminal of the lab pages: xterm.js from the class server (no CDN), sized to its box.
import { Terminal } from '/lab/assets/xterm.mjs';
import { FitAddon } from '/lab/assets/addon-fit.mjs';

/** A terminal in `el`; `readOnly` takes no keys (the instructor watching, a replay). */
export function makeTerminal(el, { readOnly = false } = {}) {
  const term = new Terminal({
    cursorBlink: !readOnly,
    disableStdin: readOnly,
    convertEol: false,
    scrollback: 5000,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
    fontSize: 14,
    theme: { background: '#1d1f21', foreground: '#e0e0e0' },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(el);
  const refit = () => {
    try {
      fit.fit();
    } catch {
      // not laid out yet
    }
  };
  refit();
  new ResizeObserver(refit).observe(el);
  return { term, refit };
}

/** ws:// or wss:// on this page's own origin. */
export const wsUrl = (path) => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;

/** Text for an element: never markup. */
export function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
