/**
 * `Content-Disposition: attachment` for a download (RFC 6266): a plain `filename` that every
 * browser reads (printable ASCII; anything else replaced by `_`, quotes and backslashes escaped),
 * and for any other name `filename*` in RFC 5987 encoding (UTF-8, percent-encoded), which
 * browsers prefer when present. Pure.
 */

/** RFC 5987 attr-char: everything else is percent-encoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+.^_`|~-]/;

function encode5987(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, (c) => `\\${c}`);
  const plain = `attachment; filename="${ascii}"`;
  return /^[\x20-\x7e]*$/.test(name) ? plain : `${plain}; filename*=UTF-8''${encode5987(name)}`;
}
