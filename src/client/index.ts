/** The client of SPEC.md §9: `RpcClient.call` over `/rpc` and `subscribe` over `/events`. */
export { RpcCallError, RpcClient, type RpcClientOptions } from './rpc-client.js';
export {
  type ClientSubscription,
  type EventSourceClass,
  type EventSourceLike,
  SERVER_METHODS,
  type SessionInfo,
  type SubscribeOptions,
  subscribe,
} from './subscribe.js';
