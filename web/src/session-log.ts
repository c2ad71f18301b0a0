/**
 * The session log a user downloads (pure): the text of the terminal's normal buffer (its history
 * and screen, as many lines as the scrollback setting keeps; not a full-screen program's
 * alternate screen), with lines the terminal wrapped joined again, trailing spaces and trailing
 * empty lines dropped. download.ts saves it as a file named by logFileName.
 */

export interface LogLine {
  /** This row continues the row above (the terminal wrapped a long line). */
  readonly isWrapped: boolean;
  translateToString(trimRight?: boolean): string;
}

export interface LogBuffer {
  readonly length: number;
  getLine(y: number): LogLine | undefined;
}

export function bufferText(buffer: LogBuffer): string {
  const lines: string[] = [];
  for (let y = 0; y < buffer.length; y++) {
    const line = buffer.getLine(y);
    if (line === undefined) continue;
    // A row the next one continues keeps its trailing spaces: they are part of the line.
    const continued = buffer.getLine(y + 1)?.isWrapped ?? false;
    const text = line.translateToString(!continued);
    if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += text;
    else lines.push(text);
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `webssh-alice@example.com-22-20250601-143005.txt` (local time; only file-name-safe characters). */
export function logFileName(who: string, at: Date): string {
  const stamp = `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  const name = who.replace(/[^A-Za-z0-9@._-]+/g, '-').replace(/^-+|-+$/g, '');
  return `webssh-${name === '' ? 'session' : name}-${stamp}.txt`;
}
