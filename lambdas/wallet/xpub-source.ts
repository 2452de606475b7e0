// Where the deposit xpub comes from. In AWS: a Secrets Manager secret (DEPOSIT_XPUB_SECRET_ARN, created by the
// Chain stack and filled by an operator from the offline seed). Locally: a file in the data dir written by
// local/chain-wallet.ts (DEPOSIT_XPUB_FILE). Either way it is never in the environment itself nor logged.
import { readFile } from 'node:fs/promises';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { secretsClient } from '../shared/clients';
import { parseConfig } from '../shared/config';
import { assertPublicOnly } from './deposit-address';

let cached: Promise<string> | undefined;

/** Where to read it: read with the xpub itself (once per container; a failed read reads them again). */
const xpubSourceSchema = z.object({
  DEPOSIT_XPUB_SECRET_ARN: z.string().min(1).optional(),
  DEPOSIT_XPUB_FILE: z.string().min(1).optional(),
});

async function load(): Promise<string> {
  const { DEPOSIT_XPUB_SECRET_ARN: secretArn, DEPOSIT_XPUB_FILE: file } = parseConfig(
    'deposit xpub source',
    xpubSourceSchema,
  );
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
