/** A BullMQ worker process for the `commands` baseline: processes jobs doing nothing. */
import { Worker } from 'bullmq';

const [url, queue, concurrency] = process.argv.slice(2);
const { hostname, port } = new URL(url!);
const worker = new Worker(queue!, async () => {}, {
  connection: { host: hostname, port: Number(port) },
  concurrency: Number(concurrency),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
