// One verify reads each piece of kernel state once. The checks of a step run concurrently and
// often read the same thing (networking/bridge's four checks ran 18 `ip -j` spawns in the same
// two namespaces, about 20 ms each on this machine); inside withProbeCache, a probe with the
// same key shares the first one's promise. Scoped by AsyncLocalStorage to one verify, so a solve,
// a mutant or the next verify always read afresh, and lesson code calls the probes as before.
import { AsyncLocalStorage } from 'node:async_hooks';

const scope = new AsyncLocalStorage<Map<string, Promise<unknown>>>();

/** Runs `fn` (one verify's checks) with a fresh probe cache. */
export const withProbeCache = <T>(fn: () => Promise<T>): Promise<T> => scope.run(new Map(), fn);

/** `read()`'s result, shared by every probe of the same `key` in the current verify; uncached outside one. */
export function cachedProbe<T>(key: string, read: () => Promise<T>): Promise<T> {
  const cache = scope.getStore();
  if (cache === undefined) return read();
  const hit = cache.get(key);
  // Only this function fills the map, and a key always names the same reader and so the same T.
  if (hit !== undefined) return hit as Promise<T>;
  const p = read();
  cache.set(key, p);
  return p;
}
