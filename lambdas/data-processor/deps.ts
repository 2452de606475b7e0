// Real dependencies of the data processor (settlement), created once per container: PostgreSQL only.
import { MARKETS } from '@contracts/markets';
import { dbPool } from '../shared/db';
import { LedgerRepository } from '../shared/ledger/repository';
import type { UndecodableRecord } from './handler';
import type { ProcessorDeps } from './process-record';

type Deps = ProcessorDeps & {
  quarantineUndecodable(r: UndecodableRecord): Promise<void>;
  ledger: LedgerRepository;
};
let deps: Deps | undefined;

export async function processorDeps(): Promise<Deps> {
  if (deps) return deps;
  const ledger = new LedgerRepository(dbPool());
  deps = {
    markets: new Map(MARKETS.map((m) => [m.symbol, m])),
    settlement: ledger,
    ledger,
    quarantineUndecodable: (r) => ledger.quarantine(r.key, '?', r.raw, r.error),
  };
  return deps;
}
