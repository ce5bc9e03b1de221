/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line must be a
 * HELP, a TYPE, a comment or a well-formed sample; TYPE comes before its family's samples; no
 * series twice; histogram buckets cumulative with `+Inf` equal to `_count`. Throws naming the line.
 */

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed exposition. */
export interface Exposition {
  readonly types: ReadonlyMap<string, string>;
  readonly help: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
/** A float as Go's ParseFloat reads it (Prometheus does): `NaN` and `Inf` in any case. */
const VALUE = '(?:[+-]?[Ii][Nn][Ff]|[Nn][Aa][Nn]|[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?)';
const SAMPLE = new RegExp(
  `^(${NAME})(?:\\{((?:${LABEL}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"(?:,${LABEL}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*")*,?)?)\\})? (${VALUE})(?: (-?\\d+))?$`,
);
const LABEL_PAIR = new RegExp(`(${LABEL})="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`, 'g');
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count', ''],
  counter: ['', '_total'],
};

/** Parses `text`, throwing `Error('line N: …')` at the first thing that is not valid. */
export function parseExposition(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${line}`);
    };
    if (line === '') continue;
    if (line.startsWith('#')) {
      readComment(line, types, help, samples, fail);
      continue;
    }
    const match = SAMPLE.exec(line) ?? fail('not a valid sample');
    const sample = toSample(match);
    if (!familyOf(sample.name, types)) fail('sample before (or without) its # TYPE');
    const series = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(series)) fail('the same series twice');
    seen.add(series);
    samples.push(sample);
  }
  checkHistograms(types, samples);
  return { types, help, samples };
}

function readComment(
  line: string,
  types: Map<string, string>,
  help: Map<string, string>,
  samples: readonly Sample[],
  fail: (why: string) => never,
): void {
  const typeLine = new RegExp(`^# TYPE (${NAME}) (\\S+)$`).exec(line);
  if (typeLine) {
    const [, name, type] = typeLine as unknown as [string, string, string];
    if (!TYPES.has(type)) fail(`unknown type ${type}`);
    if (types.has(name)) fail('a second # TYPE for the same metric');
    if (samples.some((s) => familyOf(s.name, new Map([[name, type]])) === name)) {
      fail('# TYPE after samples of its metric');
    }
    types.set(name, type);
    return;
  }
  const helpLine = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line);
  if (helpLine) {
    if (help.has(helpLine[1]!)) fail('a second # HELP for the same metric');
    help.set(helpLine[1]!, helpLine[2]!);
    return;
  }
  if (/^# (HELP|TYPE)\b/.test(line)) fail('malformed # HELP or # TYPE');
}

function toSample(match: RegExpExecArray): Sample {
  const labels: Record<string, string> = {};
  for (const [, name, raw] of (match[2] ?? '').matchAll(LABEL_PAIR)) {
    if (name! in labels) throw new Error(`label ${name} given twice in ${match[0]}`);
    labels[name!] = raw!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  const text = match[3]!;
  const value = /^[+-]?inf$/i.test(text)
    ? (text.startsWith('-') ? -1 : 1) * Number.POSITIVE_INFINITY
    : Number(text);
  return { name: match[1]!, labels, value };
}

/** The metric family a sample name belongs to, by its declared type and the type's suffixes. */
function familyOf(name: string, types: ReadonlyMap<string, string>): string | undefined {
  if (types.has(name) && types.get(name) !== 'histogram') return name;
  for (const [family, type] of types) {
    if ((SUFFIXES[type] ?? []).some((suffix) => suffix !== '' && name === family + suffix)) {
      return family;
    }
  }
  return undefined;
}

/** Buckets cumulative per series, `+Inf` present and equal to `_count`. */
function checkHistograms(types: ReadonlyMap<string, string>, samples: readonly Sample[]): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const bySeries = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const key = JSON.stringify(Object.entries(rest).sort());
      bySeries.set(key, [...(bySeries.get(key) ?? []), s]);
    }
    for (const [key, buckets] of bySeries) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]!.value < buckets[i - 1]!.value)
          throw new Error(`${family} buckets not cumulative`);
      }
      const inf = buckets.find((b) => b.labels.le === '+Inf');
      const count = samples.find(
        (s) =>
          s.name === `${family}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key,
      );
      if (!inf || !count || inf.value !== count.value) {
        throw new Error(`${family}: the +Inf bucket must equal _count`);
      }
    }
  }
}

/** The value of the one sample named `name` whose labels include `labels`, or undefined. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  return exposition.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}
