// Grants on the shared data key that say what the key may be used for, not only which key. CDK's key grants
// (key.grantDecrypt, and the key half of queue.grantSendMessages / grantConsumeMessages) allow any use of the
// key by the principal; IAM allows a call if any statement does, so one such grant makes every condition on
// the others moot. Here every statement carries a condition:
// - the API-key secrets (lambdas/shared/auth/api-keys.ts) are KMS ciphertexts bound to the encryption context
//   { purpose: 'cirrus-api-key', apiKey }: a direct Encrypt/Decrypt is allowed for that purpose only;
// - a store encrypted with the key (SQS, Kinesis, S3, DynamoDB, Secrets Manager) uses it on the caller's
//   behalf: allowed only when the request comes through that service (kms:ViaService).
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { API_KEY_PURPOSE, TOTP_PURPOSE } from '@contracts/key-purposes';

export { API_KEY_PURPOSE, TOTP_PURPOSE };

/** The services that may use the data key on a principal's behalf (their `kms:ViaService` prefix). */
export type KeyService = 'sqs' | 'kinesis' | 's3' | 'dynamodb' | 'secretsmanager';

/**
 * Encrypt (creating keys) and/or Decrypt (authenticating requests) of API-key secrets only: the request must
 * carry `purpose = cirrus-api-key` in its encryption context.
 */
export function grantApiKeySecrets(
  grantee: iam.IGrantable,
  key: kms.IKey,
  use: 'decrypt' | 'encryptDecrypt',
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: use === 'decrypt' ? ['kms:Decrypt'] : ['kms:Encrypt', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:purpose': API_KEY_PURPOSE } },
    }),
  );
}

/**
 * Encrypt (enrolling a second factor) and Decrypt (checking a code) of TOTP seeds only, or Decrypt alone (a
 * function that checks codes but never enrols): the request must carry `purpose = cirrus-totp-secret` in its
 * encryption context (lambdas/shared/auth/totp.ts).
 */
export function grantTotpSecrets(
  grantee: iam.IGrantable,
  key: kms.IKey,
  use: 'decrypt' | 'encryptDecrypt' = 'encryptDecrypt',
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: use === 'decrypt' ? ['kms:Decrypt'] : ['kms:Encrypt', 'kms:Decrypt'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:purpose': TOTP_PURPOSE } },
    }),
  );
}

/** `actions` on the key, only in requests that the named services make for the principal. */
export function grantKeyThroughServices(
  grantee: iam.IGrantable,
  key: kms.IKey,
  actions: readonly string[],
  services: readonly KeyService[],
): void {
  if (services.length === 0) throw new Error('grantKeyThroughServices: name at least one service');
  if (actions.length === 0 || actions.some((a) => !a.startsWith('kms:') || a.includes('*')))
    throw new Error('grantKeyThroughServices: name kms: actions, without wildcards');
  const region = Stack.of(key).region;
  const via = services.map((s) => `${s}.${region}.amazonaws.com`);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...actions],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': via.length === 1 ? via[0] : via } },
    }),
  );
}

/** Every KMS call that reads, writes or mints a ciphertext under an encryption context. */
const API_KEY_SECRET_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
];

/**
 * For a principal that holds an unconditioned grant on the key it cannot avoid (CDK's stream and queue
 * grants of an event source, the outbox relay's SQS key grant): deny any use of the key under the API-key
 * and TOTP purposes, so it can neither read a user's API secret or TOTP seed nor mint a ciphertext the API
 * would accept as one.
 */
export function denyApiKeySecrets(grantee: iam.IGrantable, key: kms.IKey): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: API_KEY_SECRET_ACTIONS,
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:purpose': [API_KEY_PURPOSE, TOTP_PURPOSE] } },
    }),
  );
}
