// Data-key grants with a purpose: API-key secrets by encryption context, stores by kms:ViaService; no
// statement without a condition, no wildcard action.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  API_KEY_PURPOSE,
  TOTP_PURPOSE,
  grantApiKeySecrets,
  grantKeyThroughServices,
  grantTotpSecrets,
} from '@lib/constructs/key-access';

function statementsAfter(grant: (role: iam.Role, key: kms.IKey) => void) {
  const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  grant(role, key);
  const t = Template.fromStack(stack);
  // The key policy stays as CDK makes it: the grant is on the role only.
  const [keyRes] = Object.values(t.findResources('AWS::KMS::Key'));
  expect(JSON.stringify(keyRes.Properties.KeyPolicy)).not.toContain('Role');
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>,
  );
}

describe('grantApiKeySecrets', () => {
  it('decrypt: kms:Decrypt only, with purpose cirrus-api-key in the encryption context', () => {
    expect(API_KEY_PURPOSE).toBe('cirrus-api-key');
    expect(statementsAfter((role, key) => grantApiKeySecrets(role, key, 'decrypt'))).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'cirrus-api-key' } },
      },
    ]);
  });

  it('encryptDecrypt: Encrypt and Decrypt, same condition, no ReEncrypt or GenerateDataKey', () => {
    const [s] = statementsAfter((role, key) => grantApiKeySecrets(role, key, 'encryptDecrypt'));
    expect(s.Action).toEqual(['kms:Encrypt', 'kms:Decrypt']);
    expect(s.Condition).toEqual({ StringEquals: { 'kms:EncryptionContext:purpose': 'cirrus-api-key' } });
  });
});

describe('grantTotpSecrets', () => {
  it('Encrypt and Decrypt with purpose cirrus-totp-secret only (never the API-key purpose)', () => {
    expect(TOTP_PURPOSE).toBe('cirrus-totp-secret');
    expect(statementsAfter((role, key) => grantTotpSecrets(role, key))).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Encrypt', 'kms:Decrypt'],
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'cirrus-totp-secret' } },
      },
    ]);
  });

  it('Decrypt alone for a function that checks codes but never enrols', () => {
    expect(statementsAfter((role, key) => grantTotpSecrets(role, key, 'decrypt'))).toEqual([
      {
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
        Condition: { StringEquals: { 'kms:EncryptionContext:purpose': 'cirrus-totp-secret' } },
      },
    ]);
  });
});

describe('grantKeyThroughServices', () => {
  it('one service: a single kms:ViaService value in the key region', () => {
    const [s] = statementsAfter((role, key) =>
      grantKeyThroughServices(role, key, ['kms:Decrypt', 'kms:GenerateDataKey'], ['sqs']),
    );
    expect(s).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': 'sqs.eu-west-1.amazonaws.com' } },
    });
  });

  it('several services: any of them', () => {
    const [s] = statementsAfter((role, key) =>
      grantKeyThroughServices(role, key, ['kms:Decrypt'], ['sqs', 'kinesis', 's3']),
    );
    expect(s.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': [
          'sqs.eu-west-1.amazonaws.com',
          'kinesis.eu-west-1.amazonaws.com',
          's3.eu-west-1.amazonaws.com',
        ],
      },
    });
  });

  it('refuses no service, no action, a non-KMS action or a wildcard', () => {
    const grant = (actions: string[], services: Array<'sqs'>) => () =>
      statementsAfter((role, key) => grantKeyThroughServices(role, key, actions, services));
    expect(grant(['kms:Decrypt'], [])).toThrow(/at least one service/);
    expect(grant([], ['sqs'])).toThrow(/kms: actions/);
    expect(grant(['s3:GetObject'], ['sqs'])).toThrow(/kms: actions/);
    expect(grant(['kms:GenerateDataKey*'], ['sqs'])).toThrow(/without wildcards/);
  });
});
