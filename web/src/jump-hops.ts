/**
 * The jump host section's hops as plain values (jump-fields.ts shows them): what each hop's
 * fields hold, how Connect reads them into the route's hops (docs/protocol.md#jump-hosts), and
 * what Remove leaves. Pure: no DOM. At most MAX_JUMP_HOPS hops, as the bridge takes.
 */
import { parseHostInput, stripBrackets, validPort, type JumpHop, type Login } from './target.js';

/** The bridge's limit (src/protocol/v1.ts MAX_JUMP_HOPS). */
export const MAX_JUMP_HOPS = 3;
const MAX_KEY_BYTES = 16 * 1024;

export type HopMethod = Login['method'];

/** What one hop's fields hold, as typed. */
export interface HopFields {
  readonly host: string;
  readonly port: string;
  readonly username: string;
  readonly method: HopMethod;
  readonly password: string;
  readonly privateKey: string;
  readonly passphrase: string;
}

/** A hop's field that a problem is shown at. */
export type HopField = 'host' | 'port' | 'username' | 'password' | 'privateKey';

/** Why the hops cannot be read: the hop (0-based), its field and the sentence to show. */
export interface HopProblem {
  readonly index: number;
  readonly field: HopField;
  readonly message: string;
}

export const EMPTY_HOP: HopFields = { host: '', port: '22', username: '', method: 'password', password: '', privateKey: '', passphrase: '' };

/** How a sentence names hop `index` (0-based) of `count`: "the jump host" when it is the only one. */
function hopNoun(index: number, count: number): string {
  return count === 1 ? 'the jump host' : `jump host ${index + 1}`;
}

/**
 * The route's hops in dialing order, or the problem with the first wrong field. A single hop
 * with an empty Jump host is a direct login ([]); with several hops every one needs its host.
 */
export function readHops(hops: readonly HopFields[]): { readonly hops: JumpHop[] } | { readonly problem: HopProblem } {
  if (hops.length === 1 && hops[0]?.host.trim() === '') return { hops: [] };
  const out: JumpHop[] = [];
  for (const [index, f] of hops.entries()) {
    const read = readHop(f, index, hops.length);
    if ('problem' in read) return read;
    out.push(read.hop);
  }
  return { hops: out };
}

function readHop(f: HopFields, index: number, count: number): { readonly hop: JumpHop } | { readonly problem: HopProblem } {
  const noun = hopNoun(index, count);
  const problem = (field: HopField, message: string): { problem: HopProblem } => ({ problem: { index, field, message } });
  const parsed = parseHostInput(f.host);
  const host = stripBrackets(parsed.host);
  const portText = f.port.trim() === '' ? '22' : f.port.trim();
  const port = parsed.port ?? Number(portText);
  let user = f.username.trim();
  if (user === '' && parsed.user !== undefined) user = parsed.user;
  if (host === '') {
    return problem('host', count === 1 ? 'Enter the jump host, or empty the field to connect directly.' : `Enter ${noun}, or remove it.`);
  }
  if (!/^\d+$/.test(portText) || !validPort(port)) return problem('port', count === 1 ? 'The jump host port must be a number from 1 to 65535.' : `The port of ${noun} must be a number from 1 to 65535.`);
  if (user === '') return problem('username', `Enter your username on ${noun}.`);
  let login: Login;
  if (f.method === 'keyboard-interactive') {
    login = { username: user, method: 'keyboard-interactive' };
  } else if (f.method === 'publickey') {
    const k = f.privateKey.trim();
    if (k === '') return problem('privateKey', `Paste your private key for ${noun}.`);
    if (new TextEncoder().encode(k).length > MAX_KEY_BYTES) return problem('privateKey', count === 1 ? 'The jump host private key is too large (the limit is 16 KiB).' : `The private key for ${noun} is too large (the limit is 16 KiB).`);
    login = { username: user, method: 'publickey', privateKey: `${k}\n`, passphrase: f.passphrase };
  } else {
    if (f.password === '') return problem('password', `Enter your password on ${noun}.`);
    login = { username: user, method: 'password', password: f.password };
  }
  return { hop: { host, port, login } };
}

/** The hops after Remove on hop `index` (0-based): the later ones move up; the last one left is emptied instead. */
export function withoutHop(hops: readonly HopFields[], index: number): HopFields[] {
  if (index < 0 || index >= hops.length) return [...hops];
  const rest = hops.filter((_, i) => i !== index);
  return rest.length === 0 ? [EMPTY_HOP] : rest;
}

/** Whether Add jump host may add another hop to `count`. */
export function mayAddHop(count: number): boolean {
  return count < MAX_JUMP_HOPS;
}
