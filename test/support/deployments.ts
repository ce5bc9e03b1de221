import { RpcClient } from '../../src/client/index.js';

/** Connects GitHub and AWS as `userId` over JSON-RPC; returns the two connection ids. */
export async function connectBoth(
  url: string,
  userId: string,
): Promise<{ githubConnectionId: string; awsConnectionId: string }> {
  const client = new RpcClient({ url, headers: { 'X-User-Id': userId } });
  const { githubConnectionId } = await client.call<{ githubConnectionId: string }>(
    'connect.github',
    {
      owner: 'your-org',
      repo: 'your-repo',
      branch: 'main',
      token: `ghp_${'a'.repeat(36)}`,
    },
  );
  const { awsConnectionId } = await client.call<{ awsConnectionId: string }>('connect.aws', {
    region: 'ap-northeast-2',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  });
  return { githubConnectionId, awsConnectionId };
}

/** Polls `deploy.get` until the deployment is COMPLETED or FAILED (or throws after `timeoutMs`). */
export async function untilFinished(
  url: string,
  userId: string,
  deploymentId: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  const client = new RpcClient({ url, headers: { 'X-User-Id': userId } });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const doc = await client
      .call<Record<string, unknown>>('deploy.get', { deploymentId })
      .catch(() => undefined);
    if (doc && (doc.status === 'COMPLETED' || doc.status === 'FAILED')) return doc;
    if (Date.now() > deadline)
      throw new Error(
        `deployment ${deploymentId} not finished within ${timeoutMs} ms: ${JSON.stringify(doc)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One frame of a deployment's event stream. */
export interface DeployFrame {
  readonly id: string;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Reads `GET /api/v1/deploy/{id}/events` until the server closes it; every frame. */
export async function readDeployEvents(
  url: string,
  userId: string,
  deploymentId: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; frames: DeployFrame[] }> {
  const res = await fetch(`${url}/api/v1/deploy/${deploymentId}/events?userId=${userId}`, {
    headers,
  });
  if (res.status !== 200) return { status: res.status, frames: [] };
  const text = await res.text(); // ends when the server closes the stream (5 s after the end)
  const frames = text
    .split('\n\n')
    .map((block) => {
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return id && event && data
        ? { id, event, data: JSON.parse(data) as Record<string, unknown> }
        : undefined;
    })
    .filter((f): f is DeployFrame => f !== undefined);
  return { status: res.status, frames };
}
