/**
 * The layout of a long error (pure): a message of several lines (errors.ts writes the changed
 * host key warning that way) is a title, then its lines, where a `Label: SHA256:…` line is a
 * fingerprint shown in monospace on a line of its own. A one-line message is plain text.
 */

export type AlertLine =
  | { readonly kind: 'title' | 'text'; readonly text: string }
  | { readonly kind: 'fingerprint'; readonly label: string; readonly value: string };

/** `Stored key: SHA256:abc…` with an optional key type: `SHA256:abc… (ssh-rsa)`. */
const FINGERPRINT = /^(\S[^:]*): (SHA256:[A-Za-z0-9+/=]+(?: \([a-z0-9@.-]+\))?)$/;

export function alertLines(message: string): AlertLine[] {
  const lines = message.split('\n');
  if (lines.length === 1) return [{ kind: 'text', text: message }];
  return lines.map((line, i): AlertLine => {
    const fp = FINGERPRINT.exec(line);
    if (fp !== null) return { kind: 'fingerprint', label: fp[1] ?? '', value: fp[2] ?? '' };
    return { kind: i === 0 ? 'title' : 'text', text: line };
  });
}
