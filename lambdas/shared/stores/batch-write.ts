// BatchWriteItem for any number of requests: chunks of 25 (the API's limit), one request per key (a batch
// naming a key twice is refused whole; the later write wins, as it would have sequentially), and the items
// DynamoDB leaves unprocessed under load sent again with a capped exponential backoff.
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type WriteRequest = NonNullable<
  ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
>[string][number];

const CHUNKS_IN_FLIGHT = 4;

export async function batchWriteAll(
  db: DynamoDBDocumentClient,
  table: string,
  requests: WriteRequest[],
  /** Give up (throw) after this many sends of one chunk; by default keep trying. */
  opts: { maxAttempts?: number } = {},
): Promise<void> {
  const maxAttempts = opts.maxAttempts ?? Number.POSITIVE_INFINITY;
  requests = lastPerKey(requests);
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  // A few chunks in flight at once: each waits ~10–50 ms on DynamoDB, and their keys are distinct.
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      let pending = chunks[next++];
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= maxAttempts) throw new Error('DynamoDB kept returning unprocessed items');
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** (attempt - 1), 1000)));
        const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, chunks.length) }, worker));
}

/** Keeps the last request per (pk, sk): the tables written in batches all key on those two attributes. */
function lastPerKey(requests: WriteRequest[]): WriteRequest[] {
  const byKey = new Map<string, WriteRequest>();
  for (const r of requests) {
    const key = (r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {}) as Record<string, unknown>;
    byKey.delete(`${String(key.pk)}|${String(key.sk)}`);
    byKey.set(`${String(key.pk)}|${String(key.sk)}`, r);
  }
  return byKey.size === requests.length ? requests : [...byKey.values()];
}
