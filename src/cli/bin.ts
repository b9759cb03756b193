#!/usr/bin/env node
import { runMain } from './main.ts';

await runMain(process.argv.slice(2));
