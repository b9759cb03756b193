// What verify, solve and the hooks receive is built in the lesson host (src/lessons/host-child.ts),
// beside the lesson code; the engine passes it a ChapterPlace, and `state` draws with a CheckContext.
export { checkContext, type ChapterPlace } from '../lessons/context.ts';
