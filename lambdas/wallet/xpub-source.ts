// Where the deposit xpub comes from. In AWS: a Secrets Manager secret (DEPOSIT_XPUB_SECRET_ARN, created by the
// Chain stack and filled by an operator from the offline seed). Locally: a file in the data dir written by
// local/chain-wallet.ts (DEPOSIT_XPUB_FILE). Either way it is never in the environment itself nor logged.
import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { secretsClient } from '../shared/clients';
import { assertPublicOnly } from './deposit-address';

let cached: Promise<string> | undefined;

async function load(): Promise<string> {
  const secretArn = process.env.DEPOSIT_XPUB_SECRET_ARN;
  const file = process.env.DEPOSIT_XPUB_FILE;
  let xpub: string | undefined;
  if (secretArn) {
    xpub = (await secretsClient().send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } else if (file) {
    xpub = await readFile(file, 'utf8');
  }
  if (!xpub?.trim()) throw new Error('no deposit xpub: set DEPOSIT_XPUB_SECRET_ARN or DEPOSIT_XPUB_FILE');
  assertPublicOnly(xpub.trim());
  return xpub.trim();
}

/** The deposit account's xpub, read once per container (a failed read is retried on the next call). */
export function depositXpub(): Promise<string> {
  cached ??= load().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}
