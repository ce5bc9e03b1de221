/**
 * Just enough of the protobuf wire format to read an OTLP `ExportTraceServiceRequest`
 * (the test receiver decodes spans with it; the benchmark's sink only counts them)
 * (opentelemetry-proto trace/v1, common/v1, resource/v1): the installed OTLP packages no longer
 * ship a generated root, and a dependency for a test receiver is not worth it. Field numbers are
 * those of the .proto files; unknown fields are skipped.
 */

/** An attribute value as OTLP carries it (arrays of values included). */
export type OtlpValue = string | number | boolean | null | readonly OtlpValue[];

/** A span as received, ids in lower-case hex. */
export interface RawSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, OtlpValue>>;
  readonly events: readonly {
    readonly name: string;
    readonly attributes: Record<string, OtlpValue>;
  }[];
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  /** The attributes of the resource that sent it (`service.name`, `service.instance.id`, …). */
  readonly resource: Readonly<Record<string, OtlpValue>>;
}

type Field = {
  readonly no: number;
  readonly wire: number;
  readonly value: number | bigint | Uint8Array;
};

/** The fields of one message, in order (a repeated field appears once per value). */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated protobuf varint');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) return result;
    }
  };
  const take = (n: number) => {
    if (pos + n > buf.length) throw new Error('truncated protobuf field');
    const slice = buf.subarray(pos, pos + n);
    pos += n;
    return slice;
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) out.push({ no, wire, value: take(8) });
    else if (wire === 2) out.push({ no, wire, value: take(Number(varint())) });
    else if (wire === 5) out.push({ no, wire, value: take(4) });
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const text = (v: Field['value']) => new TextDecoder().decode(v as Uint8Array);
const hex = (v: Field['value']) => Buffer.from(v as Uint8Array).toString('hex');
const all = (fs: Field[], no: number) => fs.filter((f) => f.no === no).map((f) => f.value);
const one = (fs: Field[], no: number) => all(fs, no)[0];

function anyValue(buf: Uint8Array): OtlpValue {
  const f = fields(buf)[0];
  if (!f) return null;
  switch (f.no) {
    case 1:
      return text(f.value);
    case 2:
      return f.value !== 0n;
    case 3:
      return Number(BigInt.asIntN(64, f.value as bigint));
    case 4:
      return Buffer.from(f.value as Uint8Array).readDoubleLE(0);
    case 5:
      return all(fields(f.value as Uint8Array), 1).map((v) => anyValue(v as Uint8Array));
    default:
      return null;
  }
}

function attributes(fs: Field[], no: number): Record<string, OtlpValue> {
  const out: Record<string, OtlpValue> = {};
  for (const kv of all(fs, no)) {
    const k = fields(kv as Uint8Array);
    const value = one(k, 2);
    out[text(one(k, 1) ?? new Uint8Array())] = value ? anyValue(value as Uint8Array) : null;
  }
  return out;
}

function span(buf: Uint8Array, resource: RawSpan['resource']): RawSpan {
  const s = fields(buf);
  const parent = one(s, 4);
  return {
    traceId: hex(one(s, 1)!),
    spanId: hex(one(s, 2)!),
    ...(parent && (parent as Uint8Array).length > 0 ? { parentSpanId: hex(parent) } : {}),
    name: text(one(s, 5) ?? new Uint8Array()),
    kind: Number(one(s, 6) ?? 0n),
    attributes: attributes(s, 9),
    events: all(s, 11).map((e) => {
      const ef = fields(e as Uint8Array);
      return { name: text(one(ef, 2) ?? new Uint8Array()), attributes: attributes(ef, 3) };
    }),
    links: all(s, 13).map((l) => {
      const lf = fields(l as Uint8Array);
      return { traceId: hex(one(lf, 1)!), spanId: hex(one(lf, 2)!) };
    }),
    resource,
  };
}

/** The spans of an `ExportTraceServiceRequest` in protobuf. */
export function decodeTraceRequest(body: Uint8Array): RawSpan[] {
  return all(fields(body), 1).flatMap((rs) => {
    const r = fields(rs as Uint8Array);
    const resource = one(r, 1);
    const attrs = resource ? attributes(fields(resource as Uint8Array), 1) : {};
    return all(r, 2).flatMap((ss) =>
      all(fields(ss as Uint8Array), 2).map((s) => span(s as Uint8Array, attrs)),
    );
  });
}

/** How many spans an `ExportTraceServiceRequest` in protobuf holds (without decoding them). */
export function countSpans(body: Uint8Array): number {
  let n = 0;
  for (const rs of all(fields(body), 1)) {
    for (const ss of all(fields(rs as Uint8Array), 2)) n += all(fields(ss as Uint8Array), 2).length;
  }
  return n;
}
