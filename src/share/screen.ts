/**
 * The screen a viewer sees first (docs/protocol.md#sharing): a throwaway headless xterm.js
 * terminal (no scrollback) that ShareHub feeds a seed screen and the output since, then
 * serializes with @xterm/addon-serialize, when a viewer joins.
 */
import xtermHeadless from '@xterm/headless';
import serializeAddon from '@xterm/addon-serialize';

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

export class SharedScreen {
  readonly #term: InstanceType<typeof Terminal>;
  readonly #serializer: InstanceType<typeof SerializeAddon>;
  #disposed = false;

  constructor(cols: number, rows: number) {
    this.#term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
    this.#serializer = new SerializeAddon();
    this.#term.loadAddon(this.#serializer);
  }

  write(data: string | Uint8Array): void {
    if (!this.#disposed) this.#term.write(data);
  }

  resize(cols: number, rows: number): void {
    if (!this.#disposed) this.#term.resize(cols, rows);
  }

  get cols(): number {
    return this.#term.cols;
  }

  get rows(): number {
    return this.#term.rows;
  }

  /** The current screen as terminal text that redraws it (after everything written so far is parsed). */
  snapshot(): Promise<string> {
    return new Promise((resolve) => {
      // An empty write's callback runs once the parser has caught up with earlier writes.
      this.#term.write('', () => resolve(this.#disposed ? '' : this.#serializer.serialize()));
    });
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#term.dispose();
  }
}
