import type { Readable, Writable } from 'node:stream';

/**
 * Copies `from` to `to` line by line, each line starting with `prefix`; a last line without a
 * newline is written when `from` ends. Lines of several processes interleave whole, never mixed.
 */
export function prefixLines(from: Readable, to: Writable, prefix: string): void {
  let rest = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    if (lines.length > 0) to.write(lines.map((line) => `${prefix}${line}\n`).join(''));
  });
  from.on('end', () => {
    if (rest) to.write(`${prefix}${rest}\n`);
    rest = '';
  });
}
