/**
 * `npm run nginx-config -- --listen 8080 --upstream 127.0.0.1:8081 --upstream 127.0.0.1:8082`
 * prints the nginx server configuration of deploy/nginx (the one docker-compose.yml uses) for
 * instances run without Docker, e.g. by `npm run cluster`; include it in nginx's http{} block.
 */
import { parseArgs } from 'node:util';
import { renderSite } from './lib/nginx-config.js';

const usage =
  'usage: npm run nginx-config -- --listen <port> --upstream <host:port> [--upstream …] [--access-log <path>]';

try {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '8080' },
      upstream: { type: 'string', multiple: true },
      'access-log': { type: 'string', default: '/var/log/nginx/streamcast.access.log' },
    },
    strict: true,
  });
  const upstreams = values.upstream ?? [];
  if (upstreams.length === 0) throw new Error('give at least one --upstream host:port');
  process.stdout.write(
    renderSite({ listen: values.listen, upstreams, accessLog: values['access-log'] }),
  );
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${usage}\n`);
  process.exit(2);
}
