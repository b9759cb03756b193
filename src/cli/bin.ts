#!/usr/bin/env node
// Node's compile cache keeps V8's code and, for lesson steps.ts files, the result of type
// stripping (35 ms per chapter otherwise, measured). It lives in the project, which workshop
// owns, not in /tmp; where it cannot be written (a learner without root) Node just skips it.
import { enableCompileCache } from 'node:module';

enableCompileCache(new URL('../node_modules/.cache/workshop-compile/', import.meta.url).pathname);
const { runMain } = await import('./main.ts');
await runMain(process.argv.slice(2));
