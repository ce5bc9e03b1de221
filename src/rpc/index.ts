/**
 * JSON-RPC 2.0 over HTTP: methods defined with zod schemas (`defineMethod`), the `POST /rpc`
 * router, the one mapping from typed errors to JSON-RPC errors, and the OpenRPC document served
 * by `rpc.discover`.
 */
export * from '../error-codes.js';
export * from './method.js';
export * from './openrpc.js';
export * from './router.js';
