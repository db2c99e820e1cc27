import { OpenApiGeneratorV31, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { problemTypes } from './problems.ts';

export { OpenAPIRegistry };

/** The RFC 9457 problem document every error response carries. */
export const problemSchema = z
  .object({
    type: z.enum(problemTypes.map((t) => `/problems/${t}`) as [string, ...string[]]),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

/** Responses shared by every operation: a problem+json body per status. */
export function problemResponses(...statuses: number[]) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request (validation, malformed JSON, unknown fields, bad ids or cursors)',
    401: 'Missing or invalid bearer token',
    403: 'Acting on another user’s resource',
    404: 'Not found',
    409: 'Conflict',
    413: 'Body larger than 16 KiB',
    415: 'Body is not application/json',
    429: 'Rate limited; see Retry-After',
    503: 'A dependency is unavailable, or a consistency wait timed out; see Retry-After',
  };
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: descriptions[status] ?? 'Error',
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  );
}

export function createApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  for (const [path, description] of [
    ['/healthz', 'The process is alive'],
    ['/readyz', 'Every dependency answers (503 otherwise)'],
    ['/metrics', 'Prometheus metrics'],
  ] as const) {
    registry.registerPath({
      method: 'get',
      path,
      tags: ['operations'],
      summary: description,
      responses: { 200: { description }, ...(path === '/readyz' ? problemResponses(503) : {}) },
    });
  }
  return registry;
}

export function buildOpenApiDocument(
  registry: OpenAPIRegistry,
  info: { title: string; version: string; description: string },
): ReturnType<OpenApiGeneratorV31['generateDocument']> {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({ openapi: '3.1.0', info });
}

/** A use case's routes: registered on the app, with their OpenAPI paths. */
export type RegisterUseCase<Context> = (app: Express, ctx: Context, api: OpenAPIRegistry) => void;

/**
 * Registers every use case of a service, then serves the OpenAPI document their schemas make (so
 * the document can never describe a route that is not there, or miss one that is).
 */
export function installApi<Context>(
  app: Express,
  ctx: Context,
  useCases: readonly RegisterUseCase<Context>[],
  info: { title: string; version: string; description: string },
): void {
  const api = createApiRegistry();
  for (const register of useCases) register(app, ctx, api);
  serveApiDocs(app, buildOpenApiDocument(api, info));
}

/** Serves the document at /openapi.json and interactive docs at /docs. */
export function serveApiDocs(app: Express, document: object): void {
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(document, { customSiteTitle: 'Mini Tweeter API' }),
  );
}
