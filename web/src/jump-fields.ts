/**
 * The connect form's **Advanced: jump host** section (a `<details>`, collapsed unless `?jump=`
 * pre-fills it): up to three jump hosts in dialing order, each with its own Host, Port, Username
 * and login (password, private key + passphrase, or keyboard-interactive). **Add jump host** shows
 * the next hop, **Remove jump host N** takes hop N out (the later ones move up). A single hop with
 * an empty Jump host means a direct login. Pre-filled from the page's
 * `?jump=user@host:port[,…]` (never a password, jump.ts). The hops' secrets are read at Connect
 * and kept in memory with the target's (target.ts `Credentials.jump`), never stored. Reading and
 * removing hops is plain values (jump-hops.ts); this file is their DOM.
 */
import { byId } from './dom.js';
import { readJumpParams } from './jump.js';
import { EMPTY_HOP, MAX_JUMP_HOPS, mayAddHop, readHops, withoutHop, type HopField, type HopFields, type HopMethod } from './jump-hops.js';
import type { JumpHop } from './target.js';

/** One hop's elements (hop 1 keeps the ids it always had: `jump-host`, …; hop N: `jump-N-host`, …). */
interface HopEls {
  readonly box: HTMLElement;
  readonly host: HTMLInputElement;
  readonly port: HTMLInputElement;
  readonly username: HTMLInputElement;
  readonly method: HTMLSelectElement;
  readonly password: HTMLInputElement;
  readonly privateKey: HTMLTextAreaElement;
  readonly passphrase: HTMLInputElement;
  readonly passwordFields: HTMLElement;
  readonly keyFields: HTMLElement;
  readonly remove: HTMLButtonElement;
}

function hopEls(n: number): HopEls {
  const p = n === 1 ? 'jump' : `jump-${n}`;
  return {
    box: byId(`jump-hop-${n}`),
    host: byId(`${p}-host`, HTMLInputElement),
    port: byId(`${p}-port`, HTMLInputElement),
    username: byId(`${p}-username`, HTMLInputElement),
    method: byId(`${p}-method`, HTMLSelectElement),
    password: byId(`${p}-password`, HTMLInputElement),
    privateKey: byId(`${p}-private-key`, HTMLTextAreaElement),
    passphrase: byId(`${p}-passphrase`, HTMLInputElement),
    passwordFields: byId(`${p}-password-fields`),
    keyFields: byId(`${p}-key-fields`),
    remove: byId(`${p}-remove`, HTMLButtonElement),
  };
}

const METHODS: readonly HopMethod[] = ['password', 'publickey', 'keyboard-interactive'];
const asMethod = (v: string): HopMethod => METHODS.find((m) => m === v) ?? 'password';

export class JumpFields {
  readonly #section = byId('jump-section', HTMLDetailsElement);
  readonly #add = byId('jump-add', HTMLButtonElement);
  readonly #hops: readonly HopEls[];
  /** How many hops are shown (1 to MAX_JUMP_HOPS; hop 1 always is). */
  #shown = 1;
  readonly #invalid: (el: HTMLElement, message: string) => void;
  readonly #listeners: Array<() => void> = [];

  /** `invalid` marks a field, focuses it and shows the sentence (the form's own). */
  constructor(invalid: (el: HTMLElement, message: string) => void) {
    this.#invalid = invalid;
    this.#hops = Array.from({ length: MAX_JUMP_HOPS }, (_, i) => hopEls(i + 1));
    const pre = readJumpParams(window.location.search);
    if (pre.length > 0) {
      this.#shown = pre.length;
      pre.forEach((hop, i) => {
        const els = this.#hops[i];
        if (els === undefined) return;
        els.host.value = hop.host;
        if (hop.port !== undefined) els.port.value = String(hop.port);
        if (hop.user !== undefined) els.username.value = hop.user;
      });
      this.#section.open = true;
    }
    for (const [i, els] of this.#hops.entries()) {
      this.#on(els.method, 'change', () => this.#syncMethod(els));
      for (const el of [els.host, els.port, els.username, els.password, els.privateKey]) {
        this.#on(el, 'input', () => el.removeAttribute('aria-invalid'));
      }
      this.#on(els.remove, 'click', () => this.#removeHop(i));
    }
    this.#on(this.#add, 'click', () => this.#addHop());
    this.#sync();
  }

  /**
   * The route's jump hosts as Connect sends them, in dialing order: [] for a direct login (one
   * hop, no Jump host), or null when a field is wrong (the section is opened and the problem
   * shown at its field).
   */
  read(): JumpHop[] | null {
    const read = readHops(this.#values());
    if ('hops' in read) return read.hops;
    const els = this.#hops[read.problem.index];
    if (els !== undefined) {
      this.#section.open = true;
      this.#invalid(this.#fieldEl(els, read.problem.field), read.problem.message);
    }
    return null;
  }

  dispose(): void {
    for (const off of this.#listeners.splice(0)) off();
  }

  #values(): HopFields[] {
    return this.#hops.slice(0, this.#shown).map((els) => ({
      host: els.host.value, port: els.port.value, username: els.username.value, method: asMethod(els.method.value),
      password: els.password.value, privateKey: els.privateKey.value, passphrase: els.passphrase.value,
    }));
  }

  #write(els: HopEls, f: HopFields): void {
    els.host.value = f.host;
    els.port.value = f.port;
    els.username.value = f.username;
    els.method.value = f.method;
    els.password.value = f.password;
    els.privateKey.value = f.privateKey;
    els.passphrase.value = f.passphrase;
    for (const el of [els.host, els.port, els.username, els.password, els.privateKey]) el.removeAttribute('aria-invalid');
  }

  #addHop(): void {
    if (!mayAddHop(this.#shown)) return;
    const els = this.#hops[this.#shown];
    if (els === undefined) return;
    this.#write(els, EMPTY_HOP);
    this.#shown += 1;
    this.#sync();
    els.host.focus();
  }

  /** Remove hop `index` (0-based): the later hops move up, the last one shown is emptied and hidden. */
  #removeHop(index: number): void {
    const kept = withoutHop(this.#values(), index);
    for (const [i, els] of this.#hops.entries()) this.#write(els, kept[i] ?? EMPTY_HOP);
    this.#shown = kept.length;
    this.#sync();
    // The focus stays in the section: on the hop now in that place, or on Add jump host.
    const next = index < this.#shown ? this.#hops[index] : undefined;
    (next?.host ?? this.#add).focus();
  }

  #fieldEl(els: HopEls, field: HopField): HTMLElement {
    switch (field) {
      case 'host': return els.host;
      case 'port': return els.port;
      case 'username': return els.username;
      case 'password': return els.password;
      case 'privateKey': return els.privateKey;
    }
  }

  #sync(): void {
    for (const [i, els] of this.#hops.entries()) {
      els.box.hidden = i >= this.#shown;
      // Hop 1 alone is removed by emptying it; with others, it has its Remove too.
      els.remove.hidden = this.#shown === 1;
      this.#syncMethod(els);
    }
    this.#add.hidden = !mayAddHop(this.#shown);
  }

  #syncMethod(els: HopEls): void {
    const m = els.method.value;
    els.passwordFields.hidden = m !== 'password';
    els.keyFields.hidden = m !== 'publickey';
  }

  #on(el: HTMLElement, type: string, fn: () => void): void {
    el.addEventListener(type, fn);
    this.#listeners.push(() => el.removeEventListener(type, fn));
  }
}
