// Learner commands never pay for the class server: with a class joined, `status` and `next`
// load neither fastify nor pg nor playwright (only `classroom serve` loads fastify). Watched
// with a module resolve hook on the built CLI.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, isRoot, LESSONS, NODE, spawnCollect } from '../helpers/workshop.ts';
import { killSender } from './harness.ts';

const HOOK = join(import.meta.dirname, 'fixtures', 'log-imports.mjs');
const HEAVY = /\/node_modules\/(fastify|@fastify\/[^/]+|pg|pg-[^/]+|playwright-core|avvio|find-my-way|ajv)\//;
const dirs: string[] = [];

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

async function loaded(args: readonly string[], home: string): Promise<{ code: number | null; stdout: string; packages: string[] }> {
  const log = join(tmp('ws-imports-'), 'log');
  writeFileSync(log, '');
  const r = await spawnCollect(NODE, ['--import', HOOK, CLI, ...args], { env: { WORKSHOP_HOME: home, WORKSHOP_IMPORT_LOG: log } });
  const packages = [...new Set(readFileSync(log, 'utf8').split('\n').flatMap((u) => HEAVY.exec(u)?.[1] ?? []))];
  return { code: r.code, stdout: r.stdout, packages };
}

/** A home that has joined a class at an address where nothing listens. */
function joinedHome(): string {
  const home = tmp('ws-lazy-');
  writeFileSync(join(home, 'classroom.json'), JSON.stringify({ url: 'http://127.0.0.1:47', name: 'lazy', token: 'unreachable-token-of-32-chars-xx', joinedAt: '' }), { mode: 0o600 });
  return home;
}

describe('lazy loading of the class server', () => {
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('status with a class joined loads no fastify, pg or playwright, and shows the queue', async () => {
    const home = joinedHome();
    const r = await loaded(['status'], home);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('class: http://127.0.0.1:47 (0 queued)');
    expect(r.packages).toEqual([]);
  });

  it.runIf(isRoot)('next with a class joined loads none of them either', async () => {
    const home = joinedHome();
    const r = await loaded(['next'], home);
    expect(r.code).toBe(1); // preflight/vm fails in a fresh home
    expect(r.packages).toEqual([]);
    killSender(home);
  });

  it('classroom serve does load fastify (so the hook sees what it must)', async () => {
    const home = tmp('ws-lazy-serve-');
    const log = join(home, 'log');
    writeFileSync(log, '');
    const child = spawn(NODE, ['--import', HOOK, CLI, 'classroom', 'serve', '--host', '127.0.0.1', '--port', '0', '--json', '--lessons', LESSONS], { env: { ...process.env, WORKSHOP_HOME: home, WORKSHOP_IMPORT_LOG: log }, stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`serve exited ${c}`)));
    });
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const packages = new Set(readFileSync(log, 'utf8').split('\n').flatMap((u) => HEAVY.exec(u)?.[1] ?? []));
    expect(packages.has('fastify')).toBe(true);
    expect(packages.has('pg')).toBe(false);
  });
});
