// Kinesis -> OpenSearch: bulk-indexes engine events (orders' lifecycle, trades) so support and users can
// search them. Document ids are deterministic (market + seq, market + trade id), so a replayed batch
// overwrites the same documents. Depth updates are not indexed (the book is not history).
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import type { EngineEvent } from '../../engine/core/types';
import { decodeRecord, type EventRecord } from '../../engine/service/messages';
import { logger } from '../shared/powertools';

const kinesisEventSchema = z.object({
  Records: z.array(
    z.object({
      kinesis: z.object({ data: z.string(), sequenceNumber: z.string(), partitionKey: z.string() }),
    }),
  ),
});

/** Index names: one per kind, monthly for the event log so old months can be dropped. */
export function bulkLines(record: EventRecord): string[] {
  const lines: string[] = [];
  for (const event of record.events as Array<EngineEvent & { seq: number; ts?: number }>) {
    if (event.type === 'depth') continue;
    const month = new Date(event.ts ?? 0).toISOString().slice(0, 7).replace('-', '.');
    lines.push(
      JSON.stringify({ index: { _index: `cirrus-events-${month}`, _id: `${record.market}-${event.seq}` } }),
      JSON.stringify({ ...event, market: record.market }),
    );
    if (event.type === 'trade') {
      lines.push(
        JSON.stringify({ index: { _index: 'cirrus-trades', _id: `${record.market}-${event.tradeId}` } }),
        JSON.stringify({ ...event, market: record.market }),
      );
    }
  }
  return lines;
}

const toBytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SigV4's hash: SHA-256, or HMAC-SHA-256 when given a secret (node:crypto, as the SDK's own hash-node). */
class Sha256 implements Checksum {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret ? createHmac('sha256', toBytes(this.secret)) : createHash('sha256');
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

let signer: SignatureV4 | undefined;

async function bulk(endpoint: string, body: string): Promise<void> {
  signer ??= new SignatureV4({
    service: 'es',
    region: process.env.AWS_REGION ?? 'us-east-1',
    sha256: Sha256,
    credentials: async () => ({
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
      sessionToken: process.env.AWS_SESSION_TOKEN,
    }),
  });
  const url = new URL('/_bulk', endpoint);
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    headers: { host: url.hostname, 'content-type': 'application/x-ndjson' },
    body,
  });
  const res = await fetch(url, { method: 'POST', headers: signed.headers, body });
  const out = (await res.json()) as { errors?: boolean; items?: Array<Record<string, { error?: unknown }>> };
  if (!res.ok || out.errors) {
    const first = out.items?.map((i) => Object.values(i)[0]?.error).find(Boolean);
    throw new Error(`bulk index failed (${res.status}): ${JSON.stringify(first ?? out).slice(0, 500)}`);
  }
}

export const handler = async (event: unknown): Promise<KinesisStreamBatchResponse> => {
  const batch = kinesisEventSchema.parse(event) as unknown as KinesisStreamEvent;
  const endpoint = process.env.OPENSEARCH_ENDPOINT;
  if (!endpoint) throw new Error('environment variable OPENSEARCH_ENDPOINT is not set');
  const lines: string[] = [];
  for (const item of batch.Records) {
    try {
      lines.push(...bulkLines(decodeRecord(Buffer.from(item.kinesis.data, 'base64'))));
    } catch (err) {
      // Not an engine record (e.g. a chain record this indexer does not know yet): nothing to index.
      logger.warn('record skipped', {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: err instanceof Error ? err.message : String(err),
      });
    }
  }
  if (lines.length === 0) return { batchItemFailures: [] };
  try {
    await bulk(endpoint, `${lines.join('\n')}\n`);
  } catch (err) {
    // Indexing is idempotent: retry the whole batch from its first record.
    logger.error('bulk indexing failed', { err: err instanceof Error ? err.message : String(err) });
    return { batchItemFailures: [{ itemIdentifier: batch.Records[0].kinesis.sequenceNumber }] };
  }
  logger.debug('indexed', { records: batch.Records.length, documents: lines.length / 2 });
  return { batchItemFailures: [] };
};
