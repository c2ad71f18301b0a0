/**
 * The Files panel's transfer queue (pure state; files-transfers.ts shows it): per transfer its
 * bytes so far, total, state, speed and time left. Speed is measured over a sliding window of
 * recent progress samples, so a pause shows as a falling speed rather than an average since the
 * start. Times come from the caller (`now`), never from a clock here.
 */

export type TransferState = 'running' | 'done' | 'failed' | 'cancelled';

export interface Transfer {
  readonly id: number;
  readonly name: string;
  readonly direction: 'upload' | 'download';
  readonly total: number;
  readonly sent: number;
  readonly state: TransferState;
  /** Why it failed (a sentence), '' otherwise. */
  readonly error: string;
  /** Bytes per second, null while unknown. */
  readonly speed: number | null;
  /** Seconds left, null while unknown. */
  readonly eta: number | null;
}

interface Sample {
  readonly at: number;
  readonly sent: number;
}

const WINDOW_MS = 3000;

export class TransferQueue {
  readonly #items = new Map<number, Transfer & { samples: Sample[] }>();
  #next = 1;

  add(name: string, direction: Transfer['direction'], total: number, now: number): number {
    const id = this.#next++;
    this.#items.set(id, { id, name, direction, total, sent: 0, state: 'running', error: '', speed: null, eta: null, samples: [{ at: now, sent: 0 }] });
    return id;
  }

  progress(id: number, sent: number, now: number): void {
    const t = this.#items.get(id);
    if (t === undefined || t.state !== 'running') return;
    const samples = [...t.samples, { at: now, sent }].filter((s, i, all) => i === all.length - 1 || now - s.at <= WINDOW_MS);
    const first = samples[0];
    const span = first === undefined ? 0 : now - first.at;
    const speed = first !== undefined && span > 0 ? ((sent - first.sent) * 1000) / span : t.speed;
    const eta = speed !== null && speed > 0 ? Math.max(0, t.total - sent) / speed : null;
    this.#items.set(id, { ...t, sent, samples, speed, eta });
  }

  finish(id: number): void {
    this.#end(id, 'done', '');
  }

  fail(id: number, error: string): void {
    this.#end(id, 'failed', error);
  }

  cancel(id: number): void {
    this.#end(id, 'cancelled', '');
  }

  /** Forget the ones that ended. */
  clearEnded(): void {
    for (const [id, t] of this.#items) if (t.state !== 'running') this.#items.delete(id);
  }

  get(id: number): Transfer | undefined {
    const t = this.#items.get(id);
    return t === undefined ? undefined : strip(t);
  }

  /** All, oldest first. */
  list(): Transfer[] {
    return [...this.#items.values()].map(strip);
  }

  /** How many run now (the toolbar's count). */
  get running(): number {
    let n = 0;
    for (const t of this.#items.values()) if (t.state === 'running') n++;
    return n;
  }

  #end(id: number, state: TransferState, error: string): void {
    const t = this.#items.get(id);
    if (t === undefined || t.state !== 'running') return;
    this.#items.set(id, { ...t, state, error, sent: state === 'done' ? t.total : t.sent, eta: null });
  }
}

function strip(t: Transfer & { samples: Sample[] }): Transfer {
  const { samples: _samples, ...rest } = t;
  return rest;
}
