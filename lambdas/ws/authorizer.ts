// WebSocket $connect REQUEST authorizer: admits a connection only when it carries the origin secret that
// Cloudflare adds to every request it forwards (a Transform Rule), so nobody can bypass Cloudflare by
// calling the execute-api endpoint directly. The secret is read from Secrets Manager (cached for five
// minutes); both AWSCURRENT and AWSPREVIOUS are accepted so a rotation never drops live clients.
import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { z } from 'zod';
import { secretsClient } from '../shared/clients';
import { authorizerConfig } from './config';
import { logger } from '../shared/powertools';
import { lambdaHandler } from '../shared/handler';

const CACHE_MS = 5 * 60 * 1000;

const authorizerEventSchema = z.object({
  type: z.literal('REQUEST'),
  methodArn: z.string().startsWith('arn:'),
  headers: z.record(z.string(), z.string()).nullish(),
  requestContext: z.object({ connectionId: z.string().optional() }).partial().optional(),
});

let cached: { values: Buffer[]; at: number } | undefined;

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

async function acceptedSecrets(now: number): Promise<Buffer[]> {
  if (cached && now - cached.at < CACHE_MS) return cached.values;
  const secretId = authorizerConfig().ORIGIN_SECRET_ARN;
  const values: Buffer[] = [];
  for (const stage of ['AWSCURRENT', 'AWSPREVIOUS']) {
    try {
      const out = await secretsClient().send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }),
      );
      if (out.SecretString) values.push(digest(out.SecretString));
    } catch (err) {
      // A secret that was never rotated has no AWSPREVIOUS version.
      if (stage === 'AWSCURRENT') throw err;
    }
  }
  cached = { values, at: now };
  return values;
}

/** Constant-time comparison on digests (equal length whatever the input). */
export function matchesAny(presented: string, accepted: Buffer[]): boolean {
  const d = digest(presented);
  return accepted.reduce((ok, value) => timingSafeEqual(d, value) || ok, false);
}

const policy = (effect: 'Allow' | 'Deny', resource: string): APIGatewayAuthorizerResult => ({
  principalId: 'cloudflare',
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  },
});

const handle = async (event: unknown): Promise<APIGatewayAuthorizerResult> => {
  const parsed = authorizerEventSchema.safeParse(event);
  if (!parsed.success) {
    logger.warn('malformed authorizer event', { issues: parsed.error.issues });
    throw new Error('Unauthorized');
  }
  const headerName = authorizerConfig().ORIGIN_SECRET_HEADER.toLowerCase();
  const headers = parsed.data.headers ?? {};
  const presented = Object.entries(headers).find(([k]) => k.toLowerCase() === headerName)?.[1];
  const allowed = presented !== undefined && matchesAny(presented, await acceptedSecrets(Date.now()));
  if (!allowed) logger.warn('connection without a valid origin secret denied');
  return policy(allowed ? 'Allow' : 'Deny', parsed.data.methodArn);
};

export const handler = lambdaHandler(handle);
