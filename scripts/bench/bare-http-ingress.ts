/**
 * The `notify-latency` baseline's ingress as its own process (like the instance it is compared
 * with): a bare express route that parses a JSON body `{method, topic, params}` and `XADD`s it as
 * one notification entry to a stream, answering once the XADD returns. bare-sse-relay.ts, another
 * process, delivers the entries. Prints `listening` once it serves.
 * Usage: bare-http-ingress.ts <redisUrl> <port> <streamKey>.
 */
import express from 'express';
import { Redis } from 'ioredis';

const [url, port, key] = process.argv.slice(2);
if (!url || !port || !key)
  throw new Error('usage: bare-http-ingress.ts <redisUrl> <port> <streamKey>');

const redis = new Redis(url);
const app = express();
app.post('/notify', express.json(), async (req, res) => {
  const { method, topic, params } = req.body as { method: string; topic: string; params: unknown };
  const id = await redis.xadd(
    key,
    'MAXLEN',
    '~',
    10_000,
    '*',
    'method',
    method,
    'params',
    JSON.stringify(params),
    'target',
    'broadcast',
    'topic',
    topic,
  );
  res.json({ id });
});
const server = app.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
// as an instance does (src/http/drain.ts): idle keep-alive connections outlive pauses between rounds
server.keepAliveTimeout = 65_000;
// exit normally on SIGTERM, so a --cpu-prof profile is written (BENCH_CPU_PROF)
process.on('SIGTERM', () => process.exit(0));
