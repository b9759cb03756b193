// The live stream: every event once, in order; a client that reconnects with Last-Event-ID gets
// what it missed, replayed from the database, then the live ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcess, joinAs, post, report, sseIds, until, type TestServer } from './harness.ts';
import { STORES } from './stores.ts';

describe.each(STORES)('SSE on $name', (factory) => {
  let t: TestServer;
  let ada: string;
  beforeAll(async () => {
    t = await inProcess(factory, { heartbeatMs: 100 });
    ada = await joinAs(t.origin, t.joinCode, 'ada');
  });
  afterAll(async () => {
    await t.close();
    await factory.cleanup();
  });

  it('streams every new event once, in id order, with its type', async () => {
    const sse = await sseIds(t.origin, t.token);
    const acked: number[] = [];
    for (let i = 0; i < 20; i++) acked.push((await post(t.origin, ada, report({ attempts: i + 1 }))).body.eventId ?? -1);
    await until('20 reports on the stream', () => acked.every((id) => sse.ids.includes(id)));
    const fromStart = sse.ids.filter((id) => id >= (acked[0] ?? 0));
    expect(fromStart).toEqual(acked);
    expect(new Set(sse.ids).size).toBe(sse.ids.length);
    sse.close();
  });

  it('replays what a client missed after its Last-Event-ID, then carries on live', async () => {
    const first = await sseIds(t.origin, t.token);
    const a = (await post(t.origin, ada, report())).body.eventId ?? -1;
    await until('the first event', () => first.ids.includes(a));
    first.close();
    // while no client listens
    const missed: number[] = [];
    for (let i = 0; i < 5; i++) missed.push((await post(t.origin, ada, report())).body.eventId ?? -1);
    const again = await sseIds(t.origin, t.token, a);
    await until('the replay', () => missed.every((id) => again.ids.includes(id)));
    const live = (await post(t.origin, ada, report())).body.eventId ?? -1;
    await until('the live event', () => again.ids.includes(live));
    expect(again.ids).toEqual([...missed, live]);
    again.close();
  });

  it('replays the whole class from 0, joins included, and accepts ?lastEventId= for EventSource', async () => {
    const all = await sseIds(t.origin, t.token, 0);
    const stored = (await t.store.eventsAfter(t.server.info.id, 0, 100_000)).map((e) => e.id);
    await until('the whole history', () => all.ids.length >= stored.length);
    expect(all.ids.slice(0, stored.length)).toEqual(stored);
    expect(all.types[0]).toBe('joined');
    all.close();
    const last = stored.at(-2) ?? 0;
    const res = await fetch(`${t.origin}/api/events?lastEventId=${last}`, { headers: { authorization: `Bearer ${t.token}` } });
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (reader && !/\nid: \d+\n[\s\S]*\n\n/.test(text)) text += (await reader.read()).value ?? '';
    expect(text).toMatch(new RegExp(`^retry: 2000\\n\\n(: ping\\n\\n)*id: ${stored.at(-1)}\\nevent: report\\n`));
    await reader?.cancel();
  });

  it('sends a heartbeat comment while nothing happens', async () => {
    const res = await fetch(`${t.origin}/api/events?lastEventId=999999999`, { headers: { authorization: `Bearer ${t.token}` } });
    const reader = res.body?.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (reader && !text.includes(': ping')) text += (await reader.read()).value ?? '';
    expect(text).toContain(': ping\n\n');
    await reader?.cancel();
  });
});
