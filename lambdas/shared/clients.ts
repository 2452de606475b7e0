// AWS SDK v3 clients, created once per container and reused across invocations. Endpoints come from the
// standard AWS_ENDPOINT_URL_<SERVICE> variables, so the same code talks to AWS or to the local stand-ins.
// Each is traced (an X-Ray subsegment per call) where tracing runs (./powertools.ts); elsewhere it is as built.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { tracer } from './powertools';

const requestHandler = new NodeHttpHandler({
  httpAgent: new Agent({ keepAlive: true, maxSockets: 256 }),
  httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
  connectionTimeout: 3_000,
  requestTimeout: 10_000,
});

const traced = <T>(client: T): T => (tracer ? tracer.captureAWSv3Client(client) : client);

let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let kms: KMSClient | undefined;
let secrets: SecretsManagerClient | undefined;
let kinesis: KinesisClient | undefined;

export function dynamoClient(): DynamoDBDocumentClient {
  dynamo ??= DynamoDBDocumentClient.from(traced(new DynamoDBClient({ requestHandler })), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
}

export function sqsClient(): SQSClient {
  // The configured endpoint, not the queue URL's host: fauxqs issues virtual-host URLs WHATWG cannot parse.
  sqs ??= traced(new SQSClient({ requestHandler, useQueueUrlAsEndpoint: false }));
  return sqs;
}

export function kmsClient(): KMSClient {
  kms ??= traced(new KMSClient({ requestHandler }));
  return kms;
}

export function secretsClient(): SecretsManagerClient {
  secrets ??= traced(new SecretsManagerClient({ requestHandler }));
  return secrets;
}

export function kinesisClient(): KinesisClient {
  kinesis ??= traced(new KinesisClient({ requestHandler }));
  return kinesis;
}

/** Reads a required environment variable (resource names wired by CDK or local/). */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
