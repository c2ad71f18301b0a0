#!/usr/bin/env node
/**
 * Entry point. It does two things, in this order: install the stop request (SIGTERM, SIGINT and,
 * in a cluster worker, the primary's drain; src/roles/stop-request.ts), then load the rest
 * (src/roles/main.ts). Loading takes a few hundred milliseconds on a busy machine; a stop in that time
 * ends the process with exit 0 instead of killing it by the signal's default action or being lost.
 * Only node: built-ins and type-only modules may be imported statically here.
 */
import cluster from 'node:cluster';
import { StopRequest } from './roles/stop-request.js';

const stop = StopRequest.install(process, cluster.isWorker, (code) => process.exit(code));
const { main } = await import('./roles/main.js');
main(stop);
