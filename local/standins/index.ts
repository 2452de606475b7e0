// Starts every AWS stand-in of docs/architecture.md#same-code-real-protocol on 127.0.0.1 and returns the environment that points the
// unmodified SDK v3 clients at them (AWS_ENDPOINT_URL_<SERVICE>).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDb } from './dynamodb';
import { startSqsAndS3 } from './fauxqs';
import { startKinesis } from './kinesis';
import { startKms } from './kms';
import { startEmbeddedPostgres } from './postgres';
import { findPostgresBin, startPostgresServer } from './postgres-server';

export type StandinName = 'dynamodb' | 'sqs' | 'kinesis' | 'postgres' | 'kms';

/**
 * embedded: pglite in this process (needs nothing installed; one transaction at a time);
 * server: a real PostgreSQL server from the machine's binaries; auto: server when installed, else embedded.
 */
export type PostgresMode = 'embedded' | 'server' | 'auto';

export interface StandinOptions {
  /** Persist state here; omit (or inMemory) for throw-away state. */
  dataDir?: string;
  inMemory?: boolean;
  /** 0 (default) picks free ports. */
  ports?: Partial<Record<StandinName, number>>;
  /** Use this PostgreSQL instead of starting one. */
  databaseUrl?: string;
  /** Which PostgreSQL to start when no databaseUrl is given (default embedded). */
  postgres?: PostgresMode;
  log?: (line: string) => void;
}

export interface Standins {
  env: Record<string, string>;
  databaseUrl: string;
  /** What serves databaseUrl. */
  postgres: 'embedded' | 'server' | 'external';
  stop(): Promise<void>;
}

export async function startStandins(opts: StandinOptions): Promise<Standins> {
  const log = opts.log ?? (() => undefined);
  const persist = opts.dataDir && !opts.inMemory ? opts.dataDir : undefined;
  const dir = (name: string) => {
    if (!persist) return undefined;
    const d = join(persist, name);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const port = (name: StandinName) => opts.ports?.[name] ?? 0;
  const stops: Array<() => Promise<void>> = [];
  const mode = opts.postgres ?? 'embedded';
  const postgres = mode === 'auto' ? (findPostgresBin() ? 'server' : 'embedded') : mode;
  try {
    const [dynamo, sqs, kinesis, kms, pg] = await Promise.all([
      startDynamoDb({ port: port('dynamodb'), dataDir: dir('dynamodb') }).then(
        (s) => (stops.push(s.stop), log(`dynamodb     DynamoDB Local at ${s.endpoint}`), s),
      ),
      startSqsAndS3({ port: port('sqs') }).then(
        (s) => (stops.push(s.stop), log(`sqs+s3       fauxqs at ${s.endpoint}`), s),
      ),
      startKinesis({ port: port('kinesis'), dataDir: dir('kinesis') }).then(
        (s) => (stops.push(s.stop), log(`kinesis      kinesalite at ${s.endpoint}`), s),
      ),
      startKms({ port: port('kms'), stateFile: persist ? join(persist, 'kms-keys.json') : undefined }).then(
        (s) => (stops.push(s.stop), log(`kms          KMS stand-in at ${s.endpoint}`), s),
      ),
      opts.databaseUrl
        ? Promise.resolve({ url: opts.databaseUrl, stop: async () => undefined }).then(
            (s) => (log('postgres     external DATABASE_URL'), s),
          )
        : postgres === 'server'
          ? startPostgresServer({ port: port('postgres'), dataDir: dir('pgserver') }).then(
              (s) => (stops.push(s.stop), log(`postgres     PostgreSQL server at ${s.url}`), s),
            )
          : startEmbeddedPostgres({ port: port('postgres'), dataDir: dir('pg') }).then(
              (s) => (
                stops.push(s.stop),
                log(`postgres     pglite at ${s.url.replace(/:[^:@]*@/, ':***@')}`),
                s
              ),
            ),
    ]);
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_S3: sqs.endpoint,
      AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      DATABASE_URL: pg.url,
    };
    return {
      env,
      databaseUrl: pg.url,
      postgres: opts.databaseUrl ? 'external' : postgres,
      async stop() {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (err) {
    await Promise.all(stops.map((s) => s().catch(() => undefined)));
    throw err;
  }
}
