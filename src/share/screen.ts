/**
 * The screen a viewer sees first (docs/protocol.md#sharing): a headless xterm.js terminal fed the
 * session's output, serialized with @xterm/addon-serialize when a viewer joins. It exists only
 * while a session is shared (parsing costs CPU), is seeded with the owner page's own serialized
 * screen, has no scrollback, and is disposed when the last link goes.
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
