/** streamcast's version, as `rpc.discover` and `/metrics` report it. */
export const VERSION = '0.1.0';
