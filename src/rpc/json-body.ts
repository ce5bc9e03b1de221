/**
 * Reads the body of a JSON-RPC HTTP request itself (no body parser runs before it), so that a
 * wrong Content-Type is 415, a body over the limit is 413 and bad JSON is -32700, all as JSON-RPC
 * errors rather than an express error page.
 */
import type { Request } from 'express';
import { invalidRequest, parseError, type RpcError } from '../error-codes.js';

/** The parsed body, or the HTTP status and JSON-RPC error (id null) to answer instead. */
export type BodyRead =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: number; readonly error: RpcError };

/** Checks the Content-Type, reads at most `maxBytes` and parses them as UTF-8 JSON. */
export async function readJsonBody(req: Request, maxBytes: number): Promise<BodyRead> {
  if (!isJsonContentType(req.get('Content-Type'))) {
    return {
      ok: false,
      status: 415,
      error: invalidRequest('Content-Type must be application/json'),
    };
  }
  const bytes = await readBytes(req, maxBytes);
  if (!bytes) {
    const reason = `the body is larger than ${maxBytes} bytes (RPC_MAX_BODY_BYTES); split the batch`;
    return { ok: false, status: 413, error: invalidRequest(reason) };
  }
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const value: unknown = JSON.parse(text);
    return { ok: true, value };
  } catch {
    return { ok: false, status: 200, error: parseError() };
  }
}

/** `application/json`, with no charset or `utf-8` (RFC 8259 allows no other). */
function isJsonContentType(header: string | undefined): boolean {
  const [type = '', ...parameters] = (header ?? '').split(';');
  if (type.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const [name = '', value = ''] = parameter.split('=');
    return name.trim().toLowerCase() !== 'charset' || /^"?utf-8"?$/i.test(value.trim());
  });
}

/** The body, or undefined once it exceeds `maxBytes` (the rest is drained and dropped). */
function readBytes(req: Request, maxBytes: number): Promise<Buffer | undefined> {
  if (Number(req.get('Content-Length')) > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (done: () => void) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      done();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      settle(() => resolve(undefined));
      req.resume();
    };
    const onEnd = () => settle(() => resolve(Buffer.concat(chunks)));
    const onError = (error: Error) => settle(() => reject(error));
    const onClose = () => settle(() => reject(new Error('the client closed the request')));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}
