/**
 * Private keys are parsed here, before any connection is made, so a key that cannot work fails
 * with its own code instead of a generic authentication failure after a round trip: a key ssh2
 * cannot read at all is SSH_KEY_INVALID, an encrypted key without its (right) passphrase is
 * SSH_KEY_PASSPHRASE. The parsed key, not the PEM text, goes on to ssh2. Neither the key nor the
 * passphrase ever appears in an error (ssh2's messages are fixed texts, kept only as `cause`).
 */
import ssh2 from 'ssh2';
import type { ParsedKey } from 'ssh2';
import { BridgeError } from '../errors.js';

/** ssh2's wording for "encrypted, and the passphrase is missing or does not decrypt it". */
const PASSPHRASE_PROBLEM = /passphrase|encrypted|decrypt/i;

export function parsePrivateKey(key: string, passphrase: string | undefined): ParsedKey {
  // An empty passphrase is "none": ssh2 treats '' as a passphrase and fails with a decrypt error.
  const given = passphrase === undefined || passphrase === '' ? undefined : passphrase;
  const parsed = given === undefined ? ssh2.utils.parseKey(key) : ssh2.utils.parseKey(key, given);
  if (!(parsed instanceof Error)) {
    // ssh2 may answer an array for a file holding several keys (its types say otherwise).
    const first: ParsedKey | undefined = Array.isArray(parsed) ? (parsed as unknown as ParsedKey[])[0] : parsed;
    if (first !== undefined && first.isPrivateKey()) return first;
    throw new BridgeError('SSH_KEY_INVALID', 'not a private key');
  }
  // Wrong passphrase, or none for an encrypted key. An unencrypted key parses with any passphrase.
  if (PASSPHRASE_PROBLEM.test(parsed.message)) {
    throw new BridgeError('SSH_KEY_PASSPHRASE', given === undefined ? 'the key is encrypted and no passphrase was given' : 'the passphrase does not decrypt the key', { cause: parsed });
  }
  throw new BridgeError('SSH_KEY_INVALID', undefined, { cause: parsed });
}
