/**
 * Where a keystroke is inside the bridge, for latency work (docs/performance.md, "Finding the
 * tail"). The pump publishes on three `node:diagnostics_channel` channels:
 *
 * - `webssh-bridge:input`: client bytes about to be written to the SSH channel;
 * - `webssh-bridge:output`: an output chunk the SSH channel delivered;
 * - `webssh-bridge:sent`: that chunk handed to the WebSocket (sent or batched).
 *
 * The message is the chunk's byte count. Nothing is published, and nothing allocated, while a
 * channel has no subscriber (`hasSubscribers`), so this costs the hot path one property read.
 * Subscribers run synchronously inside the pump and take their own timestamps: a tracer loaded
 * with `node --import` (bench/tail-tracer.ts) records them with the process's monotonic clock.
 */
import diagnostics from 'node:diagnostics_channel';

export const TRACE_INPUT = diagnostics.channel('webssh-bridge:input');
export const TRACE_OUTPUT = diagnostics.channel('webssh-bridge:output');
export const TRACE_SENT = diagnostics.channel('webssh-bridge:sent');
