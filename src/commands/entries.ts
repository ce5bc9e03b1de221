/**
 * A command (or job) as it is stored in a stream entry — fields `id type data meta` — and read back:
 * decoded with a schema, never cast, so a corrupt entry is refused (and dead-lettered) instead of
 * handled.
 */
import { z } from 'zod';
import type { JsonData } from '../events/envelope.js';
import { fieldMap } from '../events/redis-entries.js';
import type { CommandEnvelope } from './command-bus.js';

const json: z.ZodType<JsonData> = z.json();

const metadata = z.object({
  commandId: z.string(),
  userId: z.string(),
  correlationId: z.string(),
  timestamp: z.string(),
  groups: z.array(z.string()).readonly().optional(),
  roles: z.array(z.string()).readonly().optional(),
  replyTo: z.string().optional(),
  streamId: z.string().optional(),
  traceparent: z.string().optional(),
  tracestate: z.string().optional(),
});

const entry = z.object({ id: z.string().min(1), type: z.string(), data: json, metadata });

/** The values of a command's entry fields `id type data meta`, in that order. */
export function entryValues(command: CommandEnvelope): string[] {
  return [command.id, command.type, JSON.stringify(command.data), JSON.stringify(command.metadata)];
}

/** Decodes a stream entry's fields; throws on a corrupt entry. */
export function decodeEntry(fields: readonly string[]): CommandEnvelope {
  const f = fieldMap(fields);
  const parsed = entry.safeParse({
    id: f.id,
    type: f.type,
    data: JSON.parse(f.data ?? 'null'),
    metadata: JSON.parse(f.meta ?? '{}'),
  });
  if (!parsed.success) {
    throw new Error(`corrupt command entry: ${parsed.error.issues[0]?.message ?? 'unreadable'}`);
  }
  return parsed.data;
}
