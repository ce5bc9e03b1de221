/**
 * The one body reader of the REST routes (and `POST /api/v1/sse/subscribe`): no express body
 * parser, since its errors quote the text they fail on (which may hold a secret) and end up in
 * express's default handler, which prints them and answers HTML. Refusals are REST error bodies.
 */
import type { Request } from 'express';
import { ValidationError } from '../errors.js';
import { readJsonBody } from '../rpc/json-body.js';
import { type RestErrorBody, restErrorBody } from './rest-errors.js';

/** The JSON object of the body, or the error body to answer (415, 413, 400). */
export async function readRestBody(
  req: Request,
  maxBodyBytes: number,
): Promise<{ readonly value: object } | RestErrorBody> {
  const read = await readJsonBody(req, maxBodyBytes);
  if (read.ok) {
    const { value } = read;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { value };
    throw new ValidationError('the request body must be a JSON object');
  }
  if (read.status === 415) {
    return restErrorBody(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  }
  if (read.status === 413) {
    return restErrorBody(413, 'PAYLOAD_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`);
  }
  return restErrorBody(400, 'INVALID_JSON', 'the body is not valid UTF-8 JSON');
}
