import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths that may carry credentials; pino replaces them before a line is written. */
const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'password',
  '*.password',
];

/**
 * JSON lines by default (what log shippers want); human-readable when writing to a terminal,
 * unless LOG_FORMAT=json asks otherwise.
 */
export function createLogger(name: string, level: LoggerOptions['level'] = 'info'): Logger {
  return pino(loggerOptions(name, level));
}

export function loggerOptions(name: string, level: LoggerOptions['level']): LoggerOptions {
  const pretty =
    (process.stdout.isTTY || process.env.LOG_PRETTY === '1') && process.env.LOG_FORMAT !== 'json';
  return {
    name,
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  };
}
