/**
 * Large pastes without freezing the page: the text is prepared once (line ends as the terminal
 * expects, bracketed-paste markers around the WHOLE paste when the remote program asked for
 * them), encoded as UTF-8 and sent in 64 KiB binary frames, one per macrotask, in order. While
 * the socket has a lot buffered the sender waits, so a huge paste never piles up in memory.
 */

export const PASTE_CHUNK = 64 * 1024;
const START = '\x1b[200~';
const END = '\x1b[201~';
const MAX_BUFFERED = 1024 * 1024;

export interface PasteSink {
  /** Send one binary frame; false when the session is gone (the paste stops). */
  send(bytes: Uint8Array): boolean;
  /** The socket's bufferedAmount (0 when unknown). */
  buffered(): number;
}

/** The bytes of a paste, as xterm.js's own `paste()` would produce them. */
export function preparePaste(text: string, bracketed: boolean): Uint8Array {
  let data = text.replace(/\r?\n/g, '\r');
  if (bracketed) {
    // A pasted end marker must not end bracketed paste early.
    data = `${START}${data.replaceAll(START, '').replaceAll(END, '')}${END}`;
  }
  return new TextEncoder().encode(data);
}

function macrotask(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Split at most `size` bytes without cutting a UTF-8 sequence (the server does not care, but logs and tests read better). */
function chunkEnd(bytes: Uint8Array, start: number, size: number): number {
  let end = Math.min(bytes.length, start + size);
  if (end >= bytes.length) return end;
  let back = end;
  while (back > start && ((bytes[back] ?? 0) & 0xc0) === 0x80) back--;
  if (back > start) end = back;
  return end;
}

/**
 * Pastes queue behind each other: a second paste starts only after the first is fully sent.
 * Keystrokes do not go through this queue and are never delayed by it.
 */
export class PasteQueue {
  #tail: Promise<void> = Promise.resolve();

  paste(bytes: Uint8Array, sink: PasteSink): Promise<void> {
    const run = async (): Promise<void> => {
      for (let start = 0; start < bytes.length;) {
        while (sink.buffered() > MAX_BUFFERED) await macrotask(20);
        const end = chunkEnd(bytes, start, PASTE_CHUNK);
        if (!sink.send(bytes.subarray(start, end))) return;
        start = end;
        if (start < bytes.length) await macrotask();
      }
    };
    this.#tail = this.#tail.then(run, run);
    return this.#tail;
  }
}
