// The local exchange over a real PostgreSQL runs each function family as its own database login, as AWS does
// (docs/architecture.md#database-roles): a trade placed through the REST API and settled by the consumers'
// process leaves connections of the API's, the data processor's and the read models' logins (and of the
// relay, reconciliation, chain listener and wallet running beside the API), and the owner's URL is not what
// the handlers use.
import { Pool } from 'pg';
import { DATABASE_ROLES, loginUserOf } from '@contracts/migrations';
import { eventually, startTestExchange, type TestExchange } from '../support/exchange-helpers';

let harness: TestExchange;
let owner: Pool;

beforeAll(async () => {
  harness = await startTestExchange(10_000);
  owner = new Pool({ connectionString: harness.pg.url, max: 1 });
});

afterAll(async () => {
  await owner?.end();
  await harness?.stop();
});

const connectedUsers = async () =>
  (
    await owner.query<{ usename: string }>(
      'SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    )
  ).rows.map((r) => r.usename);

it('a trade through the API is accepted and settled by the families, each as its own login', async () => {
  const { api, alice, bob } = harness;
  const sell = await api.signed<{ status: string }>('POST', '/api/v3/order', alice, {
    symbol: 'BTCUSDT',
    side: 'SELL',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.1',
    price: '30000',
  });
  expect(sell.status).toBe(200);
  const buy = await api.signed<{ status: string }>('POST', '/api/v3/order', bob, {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.1',
    price: '30000',
    newOrderRespType: 'RESULT',
  });
  expect(buy.status).toBe(200);
  await eventually(async () => {
    const settled = await owner.query<{ n: string }>('SELECT count(*) AS n FROM settled_trades');
    expect(Number(settled.rows[0].n)).toBeGreaterThan(0);
  });
  await eventually(async () => {
    const users = await connectedUsers();
    for (const role of [
      'cirrus_api',
      'cirrus_processor',
      'cirrus_read_models',
      'cirrus_relay',
      'cirrus_chain_listener',
      'cirrus_wallet',
    ] as const)
      expect(users).toContain(loginUserOf(role));
    // Nothing but the logins (and this test's owner pool, excluded above) is connected.
    expect(users.filter((u) => !DATABASE_ROLES.map(loginUserOf).includes(u))).toEqual([]);
  }, 30_000);
});
