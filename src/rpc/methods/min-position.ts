import { z } from 'zod';

/**
 * The `minPosition` param of queries: a globalPosition this server returned — `<ms>-<seq>` (a
 * count on the memory store), or `<partition>:<ms>-<seq>` with PARTITIONS > 1. Whether its
 * partition exists is checked against PARTITIONS when the query waits (partition-position.ts).
 */
export const minPositionParam = z
  .string()
  .regex(/^(\d{1,3}:)?\d{1,20}(-\d{1,20})?$/, 'must be a globalPosition this server returned')
  .describe('a globalPosition from a command result: wait until the read model has it');
