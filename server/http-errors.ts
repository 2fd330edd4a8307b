/**
 * Errors a route throws to answer with a status other than 200, and the one JSON shape every error response has
 * (`{error, message, …}`), declared in every route's response schemas so the OpenAPI document shows them.
 */
import { z } from 'zod';

/** The body of every error response. */
export const errorSchema = z
  .object({
    error: z.enum([
      'bad_request',
      'unauthorized',
      'forbidden',
      'not_found',
      'conflict',
      'unprocessable',
      'unavailable',
      'internal',
    ]),
    message: z.string().meta({ description: 'What went wrong and how to fix it, in one line.' }),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Every invalid field (400).' }),
    missingRole: z.string().optional().meta({ description: 'The role the caller lacks (403).' }),
    environment: z.string().optional(),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.output<typeof errorSchema>;

/** An error with an HTTP status and a body of {@link errorSchema}'s shape. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, issues?: ErrorBody['issues']) =>
  new HttpError(400, { error: 'bad_request', message, ...(issues ? { issues } : {}) });
export const notFound = (message: string) => new HttpError(404, { error: 'not_found', message });
export const conflict = (message: string) => new HttpError(409, { error: 'conflict', message });
export const forbidden = (message: string, extra: Pick<ErrorBody, 'missingRole' | 'environment'> = {}) =>
  new HttpError(403, { error: 'forbidden', message, ...extra });
export const unauthorized = (message: string) => new HttpError(401, { error: 'unauthorized', message });

/**
 * Response schemas for a route: its success responses plus the error statuses it can answer with. Every route that
 * needs a role can also answer 401 and 403, and every route that takes input 400.
 */
export function responses<T extends Record<number, z.ZodType>>(
  success: T,
  errors: readonly (400 | 401 | 403 | 404 | 409 | 422 | 503)[] = [],
): T & Record<number, z.ZodType> {
  return { ...success, ...Object.fromEntries(errors.map((status) => [status, errorSchema])) };
}
