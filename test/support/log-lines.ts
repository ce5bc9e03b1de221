import { Writable } from 'node:stream';
import winston from 'winston';
import type { Logger } from '../../src/log.js';

/** A debug-level JSON logger whose lines are kept in `lines`, for tests that read the log. */
export function capturingLogger(lines: string[] = []): { logger: Logger; lines: string[] } {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  return { logger, lines };
}
