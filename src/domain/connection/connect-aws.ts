/** `ConnectAws` (`connect.aws`, `POST /api/v1/connect/aws`, seed 003). */
import { z } from 'zod';
import { defineCommand } from '../command-definition.js';
import {
  type AwsSecrets,
  type ConnectAws,
  connectAwsParams,
  connectionDecider,
  connectionStreamId,
  connectResult,
  decodeConnectionEvent,
  maskAccessKeyId,
  newConnectionId,
  sealedSecret,
  storeConnectionSecrets,
} from './connection.js';

/** `ConnectAws`: seals the credentials at the edge, stores them once, records `AwsConnected`. */
export const connectAws = defineCommand({
  type: 'ConnectAws',
  method: {
    name: 'connect.aws',
    summary:
      'Connects an AWS account with an access key (stored encrypted); answers its awsConnectionId for deploy.start.',
  },
  route: { path: '/api/v1/connect/aws', message: 'AWS connection succeeded.' },
  params: connectAwsParams,
  data: z.object({
    connectionId: z.string(),
    region: z.string(),
    accessKeyIdMasked: z.string(),
    hasSessionToken: z.boolean(),
    sealed: sealedSecret,
  }),
  answers: [],
  toData: ({ region, accessKeyId, secretAccessKey, sessionToken: given }, edge) => {
    const sessionToken = given || undefined; // seed 003 sends "" for none
    const connectionId = newConnectionId('aws');
    const secrets: AwsSecrets = {
      kind: 'aws',
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
    };
    const sealed = edge.seal(connectionId, JSON.stringify(secrets));
    const accessKeyIdMasked = maskAccessKeyId(accessKeyId);
    return { connectionId, region, accessKeyIdMasked, hasSessionToken: !!sessionToken, sealed };
  },
  streamId: ({ data }) => connectionStreamId(data.connectionId),
  prepare: (c, ports) => storeConnectionSecrets(toConnectAws(c), c.data.sealed, ports),
  decider: () => connectionDecider,
  decode: decodeConnectionEvent,
  command: (c) => toConnectAws(c),
  result: z.object({ awsConnectionId: z.string() }),
  resultOf: (c) => connectResult(toConnectAws(c)),
  answer: z.object({ awsConnectionId: z.string().describe('pass to deploy.start') }),
  answerOf: (result) => result,
});

/** The decider's command: the non-secret fields (the sealed credentials stay out of the domain). */
function toConnectAws(c: {
  readonly data: ConnectAws['data'];
  readonly metadata: ConnectAws['metadata'];
}): ConnectAws {
  const { connectionId, region, accessKeyIdMasked, hasSessionToken } = c.data;
  const data = { connectionId, region, accessKeyIdMasked, hasSessionToken };
  return { type: 'ConnectAws', data, metadata: c.metadata };
}
