import { DeploymentRunningError, NotFoundError } from '../errors.js';
import type { Json } from '../events/envelope.js';
import type { ReadModels } from '../projections/read-models.js';
import type { Caller } from '../rpc/method.js';

/** The result fields of SPEC.md §6, in order. */
export const RESULT_FIELDS = [
  'deploymentId',
  'status',
  'owner',
  'repo',
  'branch',
  'startedAt',
  'completedAt',
  'durationSeconds',
  'finalService',
  'blueUrl',
  'greenUrl',
  'errorMessage',
  'errorCode',
  'blueLatencyMs',
  'greenLatencyMs',
  'blueErrorRate',
  'greenErrorRate',
  'eventCount',
] as const;

/** A deployment's read-model document, if the caller may see it (its starter or an admin); else -32004. */
export async function deploymentDoc(
  readModels: ReadModels,
  caller: Caller,
  deploymentId: string,
  minPosition?: string,
): Promise<Record<string, Json>> {
  const doc = await readModels.get('deployments', deploymentId, minPosition);
  // another user's deployment is answered as a missing one: its existence is not theirs to learn
  if (!doc || (doc.userId !== caller.userId && !caller.isAdmin)) {
    throw new NotFoundError('deployment', deploymentId);
  }
  return doc;
}

/** The result object of a finished deployment; `DeploymentRunningError` while it runs. */
export async function deploymentResult(
  readModels: ReadModels,
  caller: Caller,
  deploymentId: string,
): Promise<Record<string, Json>> {
  const doc = await deploymentDoc(readModels, caller, deploymentId);
  if (doc.status !== 'COMPLETED' && doc.status !== 'FAILED') {
    throw new DeploymentRunningError(deploymentId, String(doc.status));
  }
  return Object.fromEntries(RESULT_FIELDS.map((f) => [f, doc[f] ?? null]));
}
