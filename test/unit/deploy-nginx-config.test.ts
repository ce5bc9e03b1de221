import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  fillTemplate,
  NGINX_TEMPLATE,
  renderSite,
  standaloneNginxConf,
  upstreamServers,
} from '../../scripts/lib/nginx-config.js';

const template = readFileSync(NGINX_TEMPLATE, 'utf8');
const site = renderSite({
  listen: 8080,
  upstreams: ['127.0.0.1:8081', '127.0.0.1:8082'],
  accessLog: '/tmp/x/access.log',
});

/** The directives of the `location /` block. */
function proxyLocation(conf: string): string {
  const start = conf.indexOf('location / {');
  return conf.slice(start, conf.indexOf('\n    }', start));
}

describe('nginx configuration template (deploy/nginx)', () => {
  it('fills in the listen port, the upstreams and the access log', () => {
    expect(site).to.include('listen 8080;');
    expect(site).to.include('server 127.0.0.1:8081; server 127.0.0.1:8082;');
    expect(site).to.include('access_log /tmp/x/access.log streamcast;');
    expect(site).not.to.match(/\$\{STREAMCAST_[A-Z_]+\}/);
  });

  it('keeps nginx variables and refuses a placeholder without a value', () => {
    expect(site).to.include('$upstream_addr').and.include('$proxy_add_x_forwarded_for');
    expect(() => fillTemplate(template, { STREAMCAST_LISTEN: '80' })).to.throw(
      /STREAMCAST_UPSTREAMS, STREAMCAST_ACCESS_LOG/,
    );
    expect(() => upstreamServers([])).to.throw(/at least one/);
  });

  it('has SSE-safe proxy settings: no buffering, HTTP/1.1 keep-alive upstream, long reads', () => {
    const location = proxyLocation(site);
    expect(location).to.match(/proxy_buffering off;/);
    expect(location).to.match(/proxy_cache off;/);
    expect(location).to.match(/proxy_http_version 1\.1;/);
    expect(location).to.match(/proxy_set_header Connection "";/);
    const read = /proxy_read_timeout (\d+)h;/.exec(location);
    expect(Number(read?.[1])).to.be.at.least(1);
    expect(site).to.match(/upstream streamcast \{[^}]*keepalive \d+;/);
  });

  it('blocks /metrics exactly and in every case and trailing-slash spelling; passes Host with its port', () => {
    expect(site).to.match(/location = \/metrics \{\s*return 404;\s*\}/);
    expect(site).to.match(/location ~\* \^\/metrics\(\/\|\$\) \{\s*return 404;\s*\}/);
    expect(proxyLocation(site)).to.include('proxy_set_header Host $http_host;');
  });

  it('logs no query strings (only $uri) and no referer', () => {
    const format = /log_format streamcast ([^;]*);/.exec(site)?.[1] ?? '';
    expect(format).to.include('$uri');
    for (const leaky of [
      '$request ',
      '$request"',
      '$request_uri',
      '$args',
      '$query_string',
      '$http_referer',
    ]) {
      expect(format, leaky).not.to.include(leaky);
    }
  });

  it('wraps the site in a complete nginx.conf with every path private', () => {
    const conf = standaloneNginxConf('/tmp/n1', '/tmp/n1/site.conf');
    expect(conf).to.include('daemon off;').and.include('pid /tmp/n1/nginx.pid;');
    expect(conf).to.include('include /tmp/n1/site.conf;');
    for (const temp of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      expect(conf).to.include(`${temp}_temp_path /tmp/n1/temp/${temp};`);
    }
  });
});
