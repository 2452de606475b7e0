// Secrets encrypted with the shared data key, readable from other stacks without a dependency cycle.
// CDK's Secret.grantRead puts the reader's role into the *key policy* (a ViaService grant), which makes the
// keys stack reference every reader stack while they reference it. The data key's policy already lets IAM
// policies in the account grant its use, so the secret is created with a by-ARN reference to the key and
// each reader gets kms:Decrypt, restricted to calls made by Secrets Manager, in its own policy.
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/** The data key by ARN, for use as a secret's encryption key (grants then never touch the key policy). */
export function secretsKeyRef(scope: Construct, dataKey: kms.IKey): kms.IKey {
  return kms.Key.fromKeyArn(scope, 'DataKeyForSecrets', dataKey.keyArn);
}

export function grantSecretRead(secret: secretsmanager.ISecret, grantee: iam.IGrantable): void {
  secret.grantRead(grantee);
  if (!secret.encryptionKey) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [secret.encryptionKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(secret).region}.amazonaws.com` },
      },
    }),
  );
}
