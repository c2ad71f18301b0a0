/**
 * The SSH window the bridge grants per channel. ssh2 1.17.0 hard-codes it: every channel the
 * client opens grants the server 2 MiB and is topped back up to 2 MiB once half is used. A client
 * that stops reading then leaves the bridge holding the pump's HIGH_WATER (1 MiB) plus that whole
 * window (src/session/pump.ts), about 3 MiB per session.
 *
 * patches/ssh2+1.17.0.patch (applied by the package's `postinstall`, scripts/apply-patches.mjs
 * with patch-package) makes the window a client connect option, `channelWindow` (and the largest
 * packet, `channelPacketSize`, at most ssh2's 32 KiB): a channel opened by the client grants that
 * much, and each channel tops up to its own target, `incoming.maxWindow`, so one channel's target
 * can change after it opened.
 * The terminal's channel gets `--ssh-window` (default 256 KiB): a paused session then holds at
 * most HIGH_WATER + window + the one packet that crossed HIGH_WATER (1.28 MiB). Two kinds of
 * channel get ssh2's 2 MiB back (`widen`):
 * - SFTP: its own requests bound what the server sends (src/ssh/sftp-pipe.ts keeps 4 reads of
 *   128 KiB in flight per transfer), and a window below that would only slow downloads;
 * - a jump host's `direct-tcpip` channel: the SSH connection to the next server runs over it, and
 *   ssh2 parses what arrives at once, so nothing waits in the bridge there (the inner channels'
 *   own windows bound it); a small window would only slow everything the route carries.
 *
 * The patched Channel.js exports the marker WINDOW_OPTIONS. Without it (installed with scripts
 * off, `npm install --ignore-scripts`, or by an npm that refused our postinstall) ssh2 ignores
 * the options and grants its 2 MiB: the bridge works as before, and says so once at start
 * (`warnIfUnpatched`, called by src/roles/main.ts in the primary or the single process).
 * test/unit/ssh2-patch.test.ts fails when the patch is missing or ssh2 moved from the pinned
 * version.
 */
import 'ssh2';
import type { Logger } from '../log.js';
import { ssh2Internal } from './ssh2-internal.js';

declare module 'ssh2' {
  interface ConnectConfig {
    /** Patched ssh2 only: SSH window of the channels this client opens (bytes). */
    channelWindow?: number;
    /** Patched ssh2 only: largest data packet those channels accept (bytes, at most 32 KiB). */
    channelPacketSize?: number;
  }
}

/** ssh2's own window (its MAX_WINDOW), what an unpatched ssh2 grants every channel. */
export const SSH2_WINDOW = 2 * 1024 * 1024;

interface ChannelModule {
  readonly WINDOW_OPTIONS?: unknown;
  readonly windowAdjust?: (channel: unknown) => void;
}

/** What a channel (ssh2's Channel, or its SFTP wrapper) keeps of its incoming side. */
interface IncomingSide {
  incoming?: { window?: unknown; maxWindow?: unknown };
}

const loadChannelModule = (): ChannelModule | null => ssh2Internal<ChannelModule>('ssh2/lib/Channel.js');

/** Whether the installed ssh2 carries the window patch. */
export function ssh2WindowPatched(): boolean {
  return loadChannelModule()?.WINDOW_OPTIONS === 1;
}

/**
 * Give an open channel (a ClientChannel or an SFTPWrapper) the window target `window`; a larger
 * one is granted at once. No effect without the patch (the channel has ssh2's 2 MiB already).
 */
export function widen(channel: unknown, window: number = SSH2_WINDOW): void {
  const mod = loadChannelModule();
  const incoming = (channel as IncomingSide | null)?.incoming;
  if (mod?.WINDOW_OPTIONS !== 1 || mod.windowAdjust === undefined || incoming === undefined) return;
  incoming.maxWindow = window;
  mod.windowAdjust(channel);
}

/**
 * Warn once (at start) when ssh2 is not patched: `window` is not applied and each slow session
 * may hold ssh2's 2 MiB window instead. `npm rebuild webssh-bridge` runs the postinstall again.
 * Returns whether it warned.
 */
export function warnIfUnpatched(logger: Logger, window: number): boolean {
  if (ssh2WindowPatched()) return false;
  logger.warn(
    { event: 'ssh2_unpatched', ssh_window: window, granted: SSH2_WINDOW },
    'ssh2 is not patched (installed without the package\'s postinstall script?): SSH channels grant ssh2\'s 2 MiB window whatever ssh-window says, so a client that stops reading may cost about 3 MiB per session instead of about 1.25 MiB, and file downloads copy each read once more; to patch it, run `npm rebuild webssh-bridge` where it is installed (-g for a global install), or install without --ignore-scripts',
  );
  return true;
}
