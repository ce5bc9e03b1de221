/**
 * The `rpc` baseline as its own process (like the instance it is compared with): a bare express
 * route that parses the body and does one XADD. Usage: bare-relay.ts <redisUrl> <port>.
 */
import express from 'express';
import { Redis } from 'ioredis';

const [url, port] = process.argv.slice(2);
const redis = new Redis(url!);
const app = express();
app.post('/rpc', express.json(), async (req, res) => {
  const id = await redis.xadd('{bare}:cmd', '*', 'data', JSON.stringify(req.body.params));
  res.json({ jsonrpc: '2.0', id: req.body.id, result: { id } });
});
app.listen(Number(port), () => process.stdout.write('listening\n'));
