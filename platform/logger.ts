import { redact } from '../core/redact';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function isLevel(value: string | undefined): value is LogLevel {
  return value !== undefined && value in LEVELS;
}

/** One JSON object per line, every line carrying the bound fields (request id, etc.), scrubbed. */
export function createLogger(
  bound: LogFields = {},
  minLevel: string | undefined = 'info',
  sink: (line: string) => void = console.log,
): Logger {
  const threshold = LEVELS[isLevel(minLevel) ? minLevel : 'info'];
  const write = (level: LogLevel, event: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const entry = { time: new Date().toISOString(), level, event, ...bound, ...fields };
    sink(JSON.stringify(redact(entry)));
  };
  return {
    debug: (event, fields) => write('debug', event, fields),
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
    child: (fields) => createLogger({ ...bound, ...fields }, minLevel, sink),
  };
}
