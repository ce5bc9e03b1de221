import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/index.js';
import {
  cleanTraceparent,
  cleanTracestate,
  formatTraceparent,
  parseTraceparent,
  streamTemplate,
} from '../../src/tracing/index.js';

const run = promisify(execFile);

function problemsOf(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  return expect.fail('expected a ConfigError');
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('tracing', () => {
  describe('traceparent', () => {
    it('reads a valid W3C traceparent and writes it back unchanged', () => {
      const text = `00-${TRACE}-${SPAN}-01`;
      const context = parseTraceparent(text);
      expect(context).to.deep.equal({
        traceId: TRACE,
        spanId: SPAN,
        traceFlags: 1,
        isRemote: true,
      });
      expect(formatTraceparent(context!)).to.equal(text);
      expect(cleanTraceparent(`00-${TRACE}-${SPAN}-00`)).to.equal(`00-${TRACE}-${SPAN}-00`);
    });

    it('ignores malformed, all-zero, upper-case and forbidden-version headers', () => {
      const bad = [
        undefined,
        '',
        'garbage',
        `00-${'0'.repeat(32)}-${SPAN}-01`,
        `00-${TRACE}-${'0'.repeat(16)}-01`,
        `00-${TRACE.toUpperCase()}-${SPAN}-01`,
        `ff-${TRACE}-${SPAN}-01`,
        `00-${TRACE}-${SPAN}-01-extra`,
        ['00', TRACE],
      ];
      expect(bad.map(cleanTraceparent)).to.deep.equal(bad.map(() => undefined));
    });

    it('keeps a short printable tracestate and drops anything else', () => {
      expect(cleanTracestate('congo=t61rcWkgMzE')).to.equal('congo=t61rcWkgMzE');
      expect(cleanTracestate('x'.repeat(513))).to.equal(undefined);
      expect(cleanTracestate('a=\n')).to.equal(undefined);
    });

    it('templates entity streams so span attributes keep a low cardinality', () => {
      expect(['trainer-ash', 'deployment-d1', 'all'].map(streamTemplate)).to.deep.equal([
        'trainer-{id}',
        'deployment-{id}',
        'all',
      ]);
    });
  });

  describe('configuration (OTEL_* keys)', () => {
    it('is off unless an endpoint or a traces exporter is named, and off with OTEL_SDK_DISABLED', () => {
      expect(loadConfig({}).TRACING).to.equal(undefined);
      expect(loadConfig({ OTEL_SERVICE_NAME: 'x' }).TRACING).to.equal(undefined);
      const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };
      expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).TRACING).to.equal(undefined);
      expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none', ...endpoint }).TRACING).to.equal(undefined);
      expect(loadConfig(endpoint).TRACING).to.deep.equal({
        exporter: 'otlp',
        url: 'http://collector:4318/v1/traces',
        protocol: 'http/protobuf',
        headers: {},
        serviceName: 'streamcast',
        resource: {},
        sampler: 'parentbased_always_on',
        ratio: 1,
        scheduleDelayMs: 5000,
      });
    });

    it('prefers the traces-specific keys, decodes headers and resource attributes', () => {
      const t = loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/in',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-team=core,authorization=Bearer%20abc',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-team=traces',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=api,deployment.environment=prod',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).TRACING;
      expect(t).to.include({
        url: 'https://traces.example.com/in',
        protocol: 'http/json',
        serviceName: 'api',
        sampler: 'parentbased_traceidratio',
        ratio: 0.25,
      });
      expect(t?.headers).to.deep.equal({ 'x-team': 'traces', authorization: 'Bearer abc' });
      expect(t?.resource).to.deep.equal({
        'service.name': 'api',
        'deployment.environment': 'prod',
      });
    });

    it('reports every bad OTEL_* key at once, naming the fix', () => {
      const problems = problemsOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_EXPORTER_OTLP_HEADERS: 'novalue',
        COMMAND_WORKER: 'maybe',
      });
      expect(problems.map((p) => p.split(':')[0])).to.have.members([
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_EXPORTER_OTLP_PROTOCOL',
        'OTEL_TRACES_SAMPLER',
        'OTEL_TRACES_SAMPLER_ARG',
        'OTEL_EXPORTER_OTLP_HEADERS',
        'COMMAND_WORKER',
      ]);
      expect(problems.join('\n')).to.include('http/protobuf or http/json');
    });

    it('reads the OTEL_* keys from CONFIG_FILE too (the environment wins)', () => {
      const dir = mkdtempSync(join(tmpdir(), 'sc-otel-'));
      const file = join(dir, 'config.yaml');
      writeFileSync(
        file,
        'OTEL_EXPORTER_OTLP_ENDPOINT: http://from-file:4318\nOTEL_EXPORTER_OTLP_PROTOCOL: http/json\n',
      );
      expect(loadConfig({ CONFIG_FILE: file }).TRACING).to.include({
        url: 'http://from-file:4318/v1/traces',
        protocol: 'http/json',
      });
      const env = { CONFIG_FILE: file, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
      expect(loadConfig(env).TRACING?.protocol).to.equal('http/protobuf');
    });
  });

  it('loads no SDK module with tracing off; startTracing loads it (checked in a fresh process)', async function () {
    this.timeout(60_000);
    const probe = `
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      const sdk = () => Object.keys(require.cache).filter((p) =>
        /@opentelemetry[\\\\/](sdk-|exporter-|otlp-|resources)/.test(p)).length;
      const { main } = await import('./src/main.ts');
      const { loadConfig, silentLogger } = await import('./src/index.ts');
      const { startTracing } = await import('./src/tracing/index.ts');
      const off = sdk();
      const config = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
      const stop = await startTracing(config.TRACING, silentLogger);
      const on = sdk();
      await stop();
      console.log(JSON.stringify({ main: typeof main, off, on }));
    `;
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', probe],
      { cwd: process.cwd(), env: { PATH: process.env.PATH, HOME: process.env.HOME } },
    );
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(result.main).to.equal('function');
    expect(result.off, 'SDK modules loaded with tracing off').to.equal(0);
    expect(result.on, 'SDK modules loaded once tracing started').to.be.greaterThan(0);
    process.stdout.write(
      `      SDK modules in the module cache: ${result.off} with tracing off, ${result.on} after startTracing\n`,
    );
  });
});
