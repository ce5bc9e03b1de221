import winston from 'winston';

/** The logger every component gets: winston, JSON lines. Use `logger.child({component})`. */
export type Logger = winston.Logger;

/** Log levels accepted by `LOG_LEVEL`; `silent` logs nothing (tests). */
export const LOG_LEVELS = ['error', 'warn', 'info', 'http', 'debug', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Query parameters and fields whose values must never reach a log line. */
const SECRET_FIELD = /token|secret|password|authorization|cookie/i;

/** Replaces secret-looking fields (and `access_token` in URLs) with `[redacted]`. */
const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const value = info[key];
    if (SECRET_FIELD.test(key) && value !== undefined) info[key] = '[redacted]';
    else if (typeof value === 'string') info[key] = redactText(value);
  }
  return info;
});

/** Removes credentials from a URL or a query string inside free text. */
export function redactText(text: string): string {
  return text
    .replace(/(access_token|token|secret|password)=([^&\s"]+)/gi, '$1=[redacted]')
    .replace(/((?:redis(?:s)?|esdb(?:\+discover)?):\/\/)([^@\s/]*)@/gi, '$1[redacted]@');
}

/** Creates the process logger: JSON lines on stdout, every line stamped with `serverId`. */
export function createLogger(options: { level: LogLevel; serverId: string }): Logger {
  return winston.createLogger({
    level: options.level === 'silent' ? 'error' : options.level,
    silent: options.level === 'silent',
    defaultMeta: { serverId: options.serverId },
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}

/** A logger that writes nothing: the default for embedded components and tests. */
export const silentLogger: Logger = winston.createLogger({
  silent: true,
  transports: [new winston.transports.Console()],
});
