// `workshop classroom status` and `export`: the class as the instructor's terminal sees it. The
// server and token come from --url/--token, or from the classroom-server.json that serve wrote.
import { readFileSync } from 'node:fs';
import { envError, usageError } from '../../../errors.ts';
import type { ClassView } from '../../../classroom/model.ts';
import { flagString, type Cli } from '../../cli.ts';
import { parseOrigin } from './flags.ts';
import { serverInfoPath } from './serve.ts';
import { writeOut } from '../../output.ts';

function target(cli: Cli): { origin: string; token: string } {
  const url = flagString(cli.flags, 'url');
  const token = flagString(cli.flags, 'token') ?? process.env['WORKSHOP_CLASS_TOKEN'];
  if (url !== undefined && token !== undefined) {
    // the instructor URL itself (…/?token=…) is accepted as --url too
    return { origin: parseOrigin(url), token };
  }
  if (url !== undefined) {
    const t = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`).searchParams.get('token');
    if (t) return { origin: parseOrigin(url), token: t };
  }
  try {
    const info = JSON.parse(readFileSync(serverInfoPath(cli.home), 'utf8')) as { localOrigin?: string; instructorToken?: string };
    if (info.localOrigin && info.instructorToken) return { origin: url !== undefined ? parseOrigin(url) : info.localOrigin, token: token ?? info.instructorToken };
  } catch {
    // no server started from this home
  }
  throw usageError('which class? no server runs from this home', 'pass the instructor URL: workshop classroom status --url "http://HOST:PORT/?token=…"');
}

async function get(cli: Cli, path: string): Promise<Response> {
  const t = target(cli);
  let res: Response;
  try {
    res = await fetch(new URL(path, t.origin), { headers: { authorization: `Bearer ${t.token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw envError(`cannot reach the class server at ${t.origin}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`, 'is `workshop classroom serve` running?');
  }
  if (res.status === 401) throw usageError('the class server refused the instructor token', 'use the URL (with ?token=) that `workshop classroom serve` printed');
  if (!res.ok) throw envError(`the class server answered ${res.status} for ${path}`);
  return res;
}

const ago = (iso: string, now: number): string => {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
};

export function statusText(v: ClassView & { class: { name: string; joinCode: string } }, now: number): string {
  const lines = [`Class ${v.class.name} (join code ${v.class.joinCode}): ${v.learners.length} learners, ${v.learners.filter((l) => l.stuck).length} stuck, ${v.steps.length} steps`, ''];
  const rows = v.learners.map((l) => [l.stuck ? '!' : ' ', l.name, l.current ?? 'finished', `${l.done.length}/${v.steps.length}`, String(l.attempts), String(l.hints), ago(l.lastSeen, now), l.stuckReason ?? (l.failing.length ? `failing: ${l.failing.map((f) => f.check).join('; ')}` : '')]);
  const head = [' ', 'learner', 'current', 'done', 'tries', 'hints', 'last seen', ''];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) lines.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
  if (v.commonFailures.length) {
    lines.push('', 'Common failures:');
    for (const f of v.commonFailures.slice(0, 10)) lines.push(`  ${f.count} of ${v.learners.length}: ${f.check} (expected ${f.expected}, actual ${f.actual}) in ${f.step}: ${f.learners.join(', ')}`);
  }
  return lines.join('\n');
}

export default async function instructor(cli: Cli, args: string[]): Promise<number> {
  const [sub] = args;
  if (args.length > 1) throw usageError(`too many arguments: ${args.slice(1).join(' ')}`);
  if (sub === 'export') {
    const format = flagString(cli.flags, 'format') ?? 'csv';
    if (format !== 'csv' && format !== 'json') throw usageError(`--format ${format}: csv or json`);
    const res = await get(cli, `/api/export.${format}`);
    writeOut(await res.text());
    return 0;
  }
  const v = (await (await get(cli, '/api/class')).json()) as ClassView & { class: { name: string; joinCode: string } };
  if (cli.json) cli.emit(v);
  else cli.out(statusText(v, Date.now()));
  return 0;
}
