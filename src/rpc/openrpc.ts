/**
 * The OpenRPC 1.x document of our methods (`rpc.discover`), generated from the same zod schemas
 * that validate params, so the documentation cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { RPC_CODE_MEANINGS, RPC_CODES, type RpcErrorCode } from '../error-codes.js';
import { type AuthLevel, defineMethod, type RpcMethod } from './method.js';

/** A JSON Schema (draft 7, as OpenRPC uses). */
export type JsonSchema = z.core.JSONSchema.JSONSchema;

/** The `info` object of the document. */
export type OpenRpcInfo = {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
};

/** An OpenRPC content descriptor: one param, or the result. */
export type ContentDescriptor = {
  readonly name: string;
  readonly description?: string;
  readonly required?: boolean;
  readonly schema: JsonSchema;
};

/** One method of the document; `x-auth` says who may call it. */
export type OpenRpcMethod = {
  readonly name: string;
  readonly summary: string;
  readonly description?: string;
  readonly paramStructure: 'by-name';
  readonly params: readonly ContentDescriptor[];
  readonly result: ContentDescriptor;
  readonly errors?: readonly { readonly code: number; readonly message: string }[];
  readonly 'x-auth': AuthLevel;
};

/** An OpenRPC 1.3.2 document. */
export type OpenRpcDocument = {
  readonly openrpc: '1.3.2';
  readonly info: OpenRpcInfo;
  readonly methods: readonly OpenRpcMethod[];
  readonly components?: { readonly schemas: Readonly<Record<string, JsonSchema>> };
};

/** Named schemas (zod `.meta({id})` or recursive ones) shared through `components.schemas`. */
type SharedSchemas = Record<string, JsonSchema>;

/** Builds the OpenRPC document of `methods`, in their order. */
export function openRpcDocument(methods: readonly RpcMethod[], info: OpenRpcInfo): OpenRpcDocument {
  const shared: SharedSchemas = {};
  const described = methods.map((method) => describeMethod(method, shared));
  const document = { openrpc: '1.3.2' as const, info, methods: described };
  return Object.keys(shared).length ? { ...document, components: { schemas: shared } } : document;
}

function describeMethod(method: RpcMethod, shared: SharedSchemas): OpenRpcMethod {
  const errors = errorsOf(method);
  return {
    name: method.name,
    summary: method.summary,
    ...(method.description ? { description: method.description } : {}),
    paramStructure: 'by-name',
    params: paramsOf(method, shared),
    result: {
      name: 'result',
      schema: method.result ? toSchema(method.result, 'output', shared) : {},
    },
    ...(errors.length ? { errors } : {}),
    'x-auth': method.auth,
  };
}

/** One descriptor per property of the params object, `required` from the schema. */
function paramsOf(method: RpcMethod, shared: SharedSchemas): ContentDescriptor[] {
  const root = dereferenced(toSchema(method.params, 'input', shared), shared);
  const required = new Set(root.required ?? []);
  return Object.entries(root.properties ?? {}).map(([name, schema]) => {
    const asObject: JsonSchema = typeof schema === 'boolean' ? {} : schema;
    return {
      name,
      ...(asObject.description ? { description: asObject.description } : {}),
      required: required.has(name),
      schema: asObject,
    };
  });
}

/** A root that zod extracted into the definitions (it had a `.meta({id})`) is looked up there. */
function dereferenced(schema: JsonSchema, shared: SharedSchemas): JsonSchema {
  const prefix = '#/components/schemas/';
  if (!schema.$ref?.startsWith(prefix)) return schema;
  return shared[schema.$ref.slice(prefix.length)] ?? schema;
}

/** The declared error codes plus those its auth level implies, sorted. */
function errorsOf(method: RpcMethod): { code: number; message: string }[] {
  const codes = new Set<RpcErrorCode>(method.errors ?? []);
  if (method.auth !== 'public') codes.add(RPC_CODES.unauthenticated);
  if (method.auth === 'admin') codes.add(RPC_CODES.forbidden);
  return [...codes]
    .sort((a, b) => b - a)
    .map((code) => ({ code, message: RPC_CODE_MEANINGS[code] }));
}

/**
 * A zod schema as draft-7 JSON Schema: `input` for params (defaults make a field optional),
 * `output` for results. Its definitions move to `components.schemas` so refs stay valid once the
 * params object is split into descriptors.
 */
function toSchema(schema: z.ZodType, io: 'input' | 'output', shared: SharedSchemas): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: 'draft-07', io, unrepresentable: 'any' });
  const { $schema: _, definitions, $defs, ...body } = relinked(generated);
  Object.assign(shared, definitions ?? {}, $defs ?? {});
  return body;
}

function relinked(schema: JsonSchema): JsonSchema {
  const text = JSON.stringify(schema).replace(
    /"#\/(?:definitions|\$defs)\//g,
    '"#/components/schemas/',
  );
  const relinkedSchema: JsonSchema = JSON.parse(text); // our own schema, with its refs renamed
  return relinkedSchema;
}

const documentSchema = z
  .looseObject({
    openrpc: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    methods: z.array(z.looseObject({ name: z.string() })).readonly(),
  })
  .describe('An OpenRPC 1.3.2 document');

/** The public `rpc.discover` method answering the document of `methods` and of itself. */
export function discoverMethod(methods: readonly RpcMethod[], info: OpenRpcInfo): RpcMethod {
  let document: OpenRpcDocument | undefined;
  const discover: RpcMethod = defineMethod({
    name: 'rpc.discover',
    summary:
      'The OpenRPC document of every method, generated from the schemas that validate params',
    params: z.object({}),
    result: documentSchema,
    auth: 'public',
    handler: async () => {
      document ??= openRpcDocument([...methods, discover], info);
      return document;
    },
  });
  return discover;
}
