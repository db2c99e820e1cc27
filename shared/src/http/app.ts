import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
} from 'express';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics, Histogram } from 'prom-client';
import type { z } from 'zod';
import { isEventStoreDbUnavailable } from '../eventStore/eventStoreDb/errors.ts';
import { containsCredential } from '../logging/logger.ts';
import { Problem, unavailable, validationProblem } from './problems.ts';

/** Largest request body accepted (docs/contract.md): 16 KiB. */
export const maxBodyBytes = 16 * 1024;

export interface HttpAppOptions {
  name: string;
  logger: Logger;
  registry: Registry;
  /** Dependencies /readyz checks: each resolves when the dependency answers. */
  readiness: Record<string, () => Promise<unknown>>;
  /** Parse JSON bodies (default); false for a server that passes bodies on untouched (a proxy). */
  parseBodies?: boolean;
}

/** Route template for metrics labels: `/users/:id`, never the raw path (unbounded cardinality). */
const routeOf = (req: Request): string =>
  req.route ? `${req.baseUrl}${String((req.route as { path: string }).path)}` : 'unmatched';

export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * An express app with what every service of the product has: request ids, access logs (with no
 * query values: they may be credentials), JSON body rules (415 for other types and charsets, 413,
 * malformed JSON or invalid UTF-8 → 400), /healthz, /readyz and /metrics. Add routes, then call
 * `finishHttpApp` to install the 404 and problem+json handlers.
 */
const requestIdPattern = /^[\w.-]{1,128}$/;

declare module 'node:http' {
  interface IncomingMessage {
    /** The request id: the caller's X-Request-Id when it is sane, else a fresh UUID. */
    id: string;
  }
}

export function createHttpApp({
  name,
  logger,
  registry,
  readiness,
  parseBodies = true,
}: HttpAppOptions): Express {
  const app = express();
  const accessLogger = logger.child({ component: 'http' });
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', 'loopback');

  // The histogram's _count series is the request counter: one observation per request, not two.
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  // One listener per request does the request id, the metrics and the access log. Successful
  // requests are logged at debug: at thousands of requests a second a line each costs more CPU than
  // the handlers, and the metrics already count them; 4xx are logged at info, 5xx at error.
  const quiet = new Set(['/healthz', '/readyz', '/metrics']);
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    req.id = id;
    res.setHeader('X-Request-Id', id);
    res.on('finish', () => {
      const status = res.statusCode;
      const route = routeOf(req);
      const labels = { route, method: req.method, status: String(status) };
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      latency.observe(labels, seconds);
      const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
      if (quiet.has(req.path) || !accessLogger.isLevelEnabled(level)) return;
      accessLogger[level](
        {
          reqId: id,
          method: req.method,
          url: loggableUrl(req.originalUrl),
          route,
          status,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request completed',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: name });
  });
  app.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      Object.entries(readiness).map(async ([dependency, check]) => {
        try {
          await withTimeout(check(), 2000);
          return [dependency, 'ok'] as const;
        } catch (error) {
          return [dependency, error instanceof Error ? error.message : 'failed'] as const;
        }
      }),
    );
    const failing = results.filter(([, state]) => state !== 'ok');
    if (failing.length > 0) {
      const problem = unavailable(
        `Not ready: ${failing.map(([d, s]) => `${d} (${s})`).join(', ')}`,
      );
      res
        .status(503)
        .type('application/problem+json')
        .json({ ...problem.toJSON(), checks: Object.fromEntries(results) });
      return;
    }
    res.json({ status: 'ready', checks: Object.fromEntries(results) });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });

  if (!parseBodies) return app;
  app.use(requireJsonBody);
  app.use(
    express.json({
      limit: maxBodyBytes,
      strict: true,
      type: isJsonContentType,
      verify: requireUtf8,
    }),
  );
  return app;
}

/**
 * The URL as the access log writes it. Any query value may be a credential (`?access_token=…`),
 * so values are never written, only the keys (and a key that is not a plain name is hidden too);
 * a path segment that holds a credential, even percent-encoded, is replaced.
 */
function loggableUrl(originalUrl: string): string {
  const q = originalUrl.indexOf('?');
  const path = (q === -1 ? originalUrl : originalUrl.slice(0, q))
    .split('/')
    .map((segment) => (containsCredential(decodedOrAsIs(segment)) ? '[redacted]' : segment))
    .join('/');
  if (q === -1) return path;
  const keys = originalUrl
    .slice(q + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      const shown = /^[\w.[\]-]{1,64}$/.test(key) ? key : '[redacted]';
      return eq === -1 ? shown : `${shown}=[redacted]`;
    });
  return `${path}?${keys.join('&')}`;
}

const decodedOrAsIs = (segment: string): string => {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** body-parser's error type for a body that is not valid UTF-8 (mapped to 400 by toProblem). */
const invalidUtf8 = 'entity.utf8.invalid';

/**
 * JSON bodies are UTF-8 (RFC 8259 §8.1) and must be valid UTF-8: left alone, body-parser decodes
 * invalid bytes, overlong forms (C0 AF) and encoded surrogates (ED A0 80) to U+FFFD, silently
 * storing something the client never sent. Runs on the raw bytes, before they are decoded. A
 * throw here becomes body-parser's error with this status and type (its default is 403).
 */
function requireUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if (encoding !== null && encoding.toLowerCase() !== 'utf-8')
    throw Object.assign(new Error('The body is not UTF-8'), {
      status: 415,
      type: 'charset.unsupported',
    });
  if (!isUtf8(body))
    throw Object.assign(new Error('The body is not valid UTF-8'), {
      status: 400,
      type: invalidUtf8,
    });
}

function isJsonContentType(req: {
  headers: Record<string, string | string[] | undefined>;
}): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type.trim());
}

const hasBody = (req: Request) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** A request that carries a body must say it is JSON (415 otherwise), and must not be too large. */
const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!hasBody(req)) return next();
  if (Number(req.headers['content-length'] ?? 0) > maxBodyBytes) {
    return next(
      new Problem('payload-too-large', `Request bodies are limited to ${maxBodyBytes} bytes`),
    );
  }
  if (!isJsonContentType(req)) {
    return next(new Problem('unsupported-media-type', 'Send the body as application/json'));
  }
  next();
};

/** Parses `value` with a zod schema, turning a failure into a 400 that names every bad field. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationProblem(
    `The ${what} is invalid`,
    result.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
      message: issue.message,
    })),
  );
}

/** Errors that mean a dependency (database, Redis, NATS, event store) is down: 503, not 500. */
export function isDependencyFailure(error: unknown): boolean {
  // EventStoreDB's client errors carry numeric gRPC codes and no name of their own.
  if (isEventStoreDbUnavailable(error)) return true;
  const e = error as { code?: string; name?: string; message?: string } | null;
  if (!e) return false;
  const code = typeof e.code === 'string' ? e.code : '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EAI_AGAIN',
      '57P01',
      '57P03',
      '53300',
    ].includes(code) ||
    code.startsWith('08') || // PostgreSQL connection exceptions
    e.name === 'MaxRetriesPerRequestError' ||
    e.name === 'ClusterAllFailedError' ||
    // A Redis Cluster moving slots or promoting a replica: retried by the client up to a bound,
    // then answered as unavailable (redirections not followed inside an auto-pipelined batch).
    // A server that cannot serve for now: running a long script (BUSY), out of memory (OOM), a
    // master just demoted to a replica (READONLY).
    /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|LOADING|BUSY|OOM|READONLY) |Too many Cluster redirections|Failed to refresh slots cache/.test(
      e.message ?? '',
    ) ||
    /Connection terminated|Connection is closed|timeout exceeded when trying to connect|CONNECTION_CLOSED/i.test(
      e.message ?? '',
    )
  );
}

/** Installs the fallback 404 and the one place that maps errors to problem+json. */
export function finishHttpApp(app: Express, logger: Logger): Express {
  app.use((req, _res, next) =>
    next(new Problem('not-found', `No route for ${req.method} ${req.path}`)),
  );
  const handler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
    const problem = toProblem(error);
    const reqId = req.id;
    if (!problem) {
      logger.error({ err: error, reqId }, 'unhandled error');
    } else if (problem.status >= 500) {
      logger.warn({ err: error, reqId }, problem.detail);
    }
    const answer =
      problem ?? new Problem('unavailable', 'The request could not be completed; try again');
    const status = problem ? answer.status : 500;
    if (res.headersSent) return;
    for (const [header, value] of Object.entries(answer.extras.headers ?? {}))
      res.setHeader(header, value);
    if (answer.extras.retryAfter !== undefined)
      res.setHeader('Retry-After', String(answer.extras.retryAfter));
    res
      .status(status)
      .type('application/problem+json')
      .json(
        problem
          ? answer.toJSON()
          : {
              type: 'about:blank',
              title: 'Internal error',
              status: 500,
              detail: 'Unexpected error',
            },
      );
  };
  app.use(handler);
  return app;
}

function toProblem(error: unknown): Problem | null {
  if (error instanceof Problem) return error;
  const e = error as { type?: string; status?: number; statusCode?: number } | null;
  // body-parser's errors carry a `type`.
  switch (e?.type) {
    case 'entity.parse.failed':
      return validationProblem('The body is not valid JSON');
    case invalidUtf8:
      return validationProblem('The body is not valid UTF-8');
    case 'entity.too.large':
      return new Problem(
        'payload-too-large',
        `Request bodies are limited to ${maxBodyBytes} bytes`,
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new Problem('unsupported-media-type', 'Send the body as UTF-8 application/json');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return validationProblem('The request body could not be read');
    default:
      break;
  }
  if (error instanceof URIError) return validationProblem('The request path is not valid');
  if (isDependencyFailure(error))
    return unavailable('A dependency is not answering; try again shortly');
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return validationProblem('The request is invalid');
  return null;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (err: unknown) => (
        clearTimeout(timer),
        reject(err instanceof Error ? err : new Error(String(err)))
      ),
    );
  });
}
