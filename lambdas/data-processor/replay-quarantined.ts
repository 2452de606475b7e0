// Replays quarantined event records after the cause was fixed (docs/operations.md#quarantined-records):
// each goes through the same settlement as a live batch, oldest first, and is marked replayed once it
// settles. Settlement is idempotent, so a record replayed twice changes nothing the second time.
import { decodeRecord } from '@contracts/messages';
import type { LedgerRepository } from '../shared/ledger/repository';
import { processEventRecords, type ProcessorDeps } from './process-record';

export async function replayQuarantined(
  ledger: Pick<LedgerRepository, 'quarantinedRecords' | 'markReplayed'>,
  deps: ProcessorDeps,
): Promise<{ replayed: number; stillFailing: Array<{ key: string; error: string }> }> {
  let replayed = 0;
  const stillFailing: Array<{ key: string; error: string }> = [];
  for (const q of await ledger.quarantinedRecords()) {
    try {
      const record = decodeRecord(Buffer.from(q.record));
      const outcome = await processEventRecords([{ key: q.key, record, raw: q.record }], deps);
      if (outcome.quarantined.length > 0) {
        stillFailing.push({ key: q.key, error: outcome.quarantined[0].error });
        continue;
      }
      await ledger.markReplayed(q.id);
      replayed++;
    } catch (err) {
      stillFailing.push({ key: q.key, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { replayed, stillFailing };
}
