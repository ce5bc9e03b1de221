/**
 * Renders deploy/nginx/streamcast.conf.template, the nginx configuration docker-compose.yml uses,
 * for any set of instances: the same substitution the nginx image's envsubst does, limited to the
 * `${STREAMCAST_*}` names, refusing to leave one unfilled. `standaloneNginxConf` wraps the result
 * in a complete nginx.conf for running Debian's nginx outside Docker, with every path private.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The template compose mounts into the nginx image. */
export const NGINX_TEMPLATE = new URL(
  '../../deploy/nginx/streamcast.conf.template',
  import.meta.url,
);

/** The values of the template's placeholders. */
export interface NginxSite {
  /** Port (or `address:port`) nginx listens on. */
  readonly listen: string | number;
  /** The instances as `host:port`. */
  readonly upstreams: readonly string[];
  /** Access log path. */
  readonly accessLog: string;
}

const PLACEHOLDER = /\$\{(STREAMCAST_[A-Z0-9_]+)\}/g;

/** The `STREAMCAST_UPSTREAMS` value for these instances: `server a:1; server b:2;`. */
export function upstreamServers(addresses: readonly string[]): string {
  if (addresses.length === 0) throw new Error('nginx needs at least one upstream instance');
  return addresses.map((a) => `server ${a};`).join(' ');
}

/** The environment compose gives the nginx image for these settings. */
export function siteEnvironment(site: NginxSite): Record<string, string> {
  return {
    STREAMCAST_LISTEN: String(site.listen),
    STREAMCAST_UPSTREAMS: upstreamServers(site.upstreams),
    STREAMCAST_ACCESS_LOG: site.accessLog,
  };
}

/** Fills `${STREAMCAST_*}` placeholders from `values`; throws naming any that has no value. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const missing = new Set<string>();
  const text = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) missing.add(name);
    return value ?? whole;
  });
  if (missing.size > 0) {
    throw new Error(`no value for ${[...missing].join(', ')} in the nginx template`);
  }
  return text;
}

/** The server configuration (http{} context) for `site`, from the template file. */
export function renderSite(
  site: NginxSite,
  template = readFileSync(NGINX_TEMPLATE, 'utf8'),
): string {
  return fillTemplate(template, siteEnvironment(site));
}

/**
 * A complete nginx.conf around an included site file, everything under `dir`: pid, error log,
 * temp paths. `daemon off`, so nginx stays the child of whoever started it.
 */
export function standaloneNginxConf(dir: string, siteFile: string): string {
  const temp = (name: string) => join(dir, 'temp', name);
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
    default_type application/octet-stream;
    client_body_temp_path ${temp('client_body')};
    proxy_temp_path ${temp('proxy')};
    fastcgi_temp_path ${temp('fastcgi')};
    uwsgi_temp_path ${temp('uwsgi')};
    scgi_temp_path ${temp('scgi')};
    include ${siteFile};
}
`;
}
