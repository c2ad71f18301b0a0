#!/usr/bin/env node
/**
 * Entry point. It does three things, in this order: install the stop request (SIGTERM, SIGINT and,
 * in a cluster worker, the primary's drain; src/roles/stop-request.ts), fix V8's heap growing
 * factor (src/roles/heap-growth.ts; the GCs of loading already set their limits with it), then
 * load the rest (src/roles/main.ts). Loading takes a few hundred milliseconds on a busy machine; a
 * stop in that time ends the process with exit 0 instead of killing it by the signal's default
 * action or being lost. Only node: built-ins, type-only modules and those two small modules may be
 * imported statically here.
 */
import cluster from 'node:cluster';
import { setHeapGrowth } from './roles/heap-growth.js';
import { StopRequest } from './roles/stop-request.js';

const stop = StopRequest.install(process, cluster.isWorker, (code) => process.exit(code));
setHeapGrowth();
const { main } = await import('./roles/main.js');
main(stop);
