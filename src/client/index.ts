/** The client of SPEC.md §9: `RpcClient.call` over `/rpc` (SSE `subscribe` comes with the realtime issue). */
export { RpcCallError, RpcClient, type RpcClientOptions } from './rpc-client.js';
