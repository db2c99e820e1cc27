import { pino, stdSerializers, type Logger, type LoggerOptions } from 'pino';
import { credentialInText } from '../auth/tokens.ts';

export type { Logger };

/** Paths that may carry credentials; pino replaces them before a line is written. */
const redactPaths = [
  ...['req.headers', 'headers'].flatMap((at) => [
    `${at}.authorization`,
    `${at}["proxy-authorization"]`,
    `${at}.cookie`,
    `${at}["set-cookie"]`,
    `${at}["x-api-key"]`,
  ]),
  'res.headers["set-cookie"]',
  ...['token', 'accessToken', 'access_token', 'apiKey', 'api_key', 'secret', 'password'].flatMap(
    (key) => [key, `*.${key}`],
  ),
];

/** Whether `text` holds anything that looks like a credential of the product. */
export const containsCredential = (text: string): boolean => {
  credentialInText.lastIndex = 0;
  return credentialInText.test(text);
};

/** `text` with every credential-looking run replaced: the last line of defence. */
export const scrubCredentials = (text: string): string =>
  text.replace(credentialInText, '[REDACTED]');

/** Own properties of errors that hold request data (body-parser puts the whole body in `body`). */
const requestDataKeys = ['body', 'rawBody', 'headers'];

/**
 * Errors whose message quotes what the client sent: body-parser's (they carry the body and a
 * `type` such as `entity.parse.failed`), and JSON.parse's SyntaxErrors, which echo a fragment of
 * the text they could not parse ("Unexpected token 'm', "{"t": mt_0123"... is not valid JSON").
 */
function echoesInput(error: Error): boolean {
  const e = error as Error & { type?: unknown };
  return (
    Object.hasOwn(e, 'body') ||
    (typeof e.type === 'string' && /^(entity|request|charset|encoding)\./.test(e.type)) ||
    error instanceof SyntaxError
  );
}

const isError = (value: unknown): value is Error =>
  value instanceof Error ||
  (typeof value === 'object' && value !== null && typeof (value as Error).message === 'string');

/** The chain of `cause`s of an error, itself first (cycles and very deep chains cut short). */
function causeChain(error: Error): Error[] {
  const chain: Error[] = [];
  let e: unknown = error;
  while (isError(e) && !chain.includes(e) && chain.length < 10) {
    chain.push(e);
    e = e.cause;
  }
  return chain;
}

const withheld = (error: Error): string => {
  const type = (error as { type?: unknown }).type;
  return `[message withheld: it may quote the request${typeof type === 'string' ? ` (${type})` : ''}]`;
};

/** The stack's frames without its first line(s), which repeat the message. */
const framesOf = (error: Error) =>
  (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .join('\n');

/** What a log line says instead of the message of an error that echoes its input. */
const safeMessage = (error: Error): string =>
  causeChain(error)
    .map((e) => (echoesInput(e) ? withheld(e) : e.message))
    .join(': ');

/**
 * pino's error serializer, minus what could quote a request: properties holding the body or the
 * headers are dropped, and the message (and the stack's copy of it) of an error that echoes its
 * input is replaced, in the error itself and in every cause and nested error.
 */
export function serializeError(error: unknown, seen = new Set<unknown>()): unknown {
  if (!isError(error) || seen.has(error)) return isError(error) ? '[circular]' : error;
  seen.add(error);
  const serialized = stdSerializers.err(error) as unknown as Record<string, unknown>;
  const original = error as unknown as Record<string, unknown>;
  for (const key of requestDataKeys) delete serialized[key];
  // Nested errors (AggregateError's, or under keys of their own) get the same treatment.
  for (const key of Object.keys(serialized))
    if (isError(original[key])) serialized[key] = serializeError(original[key], seen);
  if (Array.isArray(serialized.aggregateErrors) && Array.isArray(original.errors))
    serialized.aggregateErrors = (original.errors as unknown[]).map((e) => serializeError(e, seen));
  const chain = causeChain(error);
  if (chain.some(echoesInput)) {
    serialized.message = safeMessage(error);
    serialized.stack = chain
      .map((e) => {
        const head = `${e.name}: ${echoesInput(e) ? withheld(e) : e.message}`;
        const frames = framesOf(e);
        return frames === '' ? head : `${head}\n${frames}`;
      })
      .join('\ncaused by: ');
  }
  return serialized;
}

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
    serializers: { err: serializeError },
    // Whatever path a credential takes into a line (a message, a field nobody thought of), it is
    // replaced before the line leaves the process.
    hooks: {
      // `logger.error(err)` alone makes the error's message the line's message: not an echoing one.
      logMethod(args, method) {
        const [first] = args as unknown[];
        if (args.length === 1 && isError(first) && causeChain(first).some(echoesInput))
          return method.apply(this, [first, safeMessage(first)]);
        return method.apply(this, args);
      },
      streamWrite: scrubCredentials,
    },
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
