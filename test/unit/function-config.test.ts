// Functions' configurations (lambdas/shared/config.ts and each family's config.ts): parsed once, defaults
// applied, and every invalid variable named in one clear error at the first use.
import { z } from 'zod';
import { configOnce, parseConfig } from '@lambdas/shared/config';

describe('function configuration', () => {
  const schema = z.object({
    URL: z.string().url(),
    COUNT: z.coerce.number().int().min(1).default(3),
  });

  it('parses with defaults and names every invalid variable at once', () => {
    expect(parseConfig('demo', schema, { URL: 'http://x.test' })).toEqual({ URL: 'http://x.test', COUNT: 3 });
    expect(() => parseConfig('demo', schema, { URL: 'nope', COUNT: '0' })).toThrow(
      /demo configuration is invalid:[\s\S]*URL[\s\S]*COUNT/,
    );
  });

  it('reads the environment once per container', () => {
    process.env.CFG_TEST_VALUE = 'first';
    const config = configOnce('demo', z.object({ CFG_TEST_VALUE: z.string() }));
    expect(config().CFG_TEST_VALUE).toBe('first');
    process.env.CFG_TEST_VALUE = 'second';
    expect(config().CFG_TEST_VALUE).toBe('first');
    delete process.env.CFG_TEST_VALUE;
  });

  it('refuses a missing required variable at first use, not at import', () => {
    const config = configOnce('demo', z.object({ CFG_TEST_MISSING: z.string().min(1) }));
    expect(() => config()).toThrow(/demo configuration is invalid[\s\S]*CFG_TEST_MISSING/);
  });
});

describe("the families' configurations", () => {
  const env = (vars: Record<string, string>) => {
    const saved = { ...process.env };
    Object.assign(process.env, vars);
    return () => {
      for (const k of Object.keys(vars)) if (!(k in saved)) delete process.env[k];
    };
  };

  it('wallet: the node and key required, confirmations and network defaulted', async () => {
    const restore = env({ CHAIN_RPC_URL: 'http://127.0.0.1:8545', HOT_WALLET_KEY_ID: 'alias/hot' });
    try {
      jest.resetModules();
      const { walletConfig } = await import('@lambdas/wallet/config');
      expect(walletConfig()).toEqual({
        CHAIN_RPC_URL: 'http://127.0.0.1:8545',
        HOT_WALLET_KEY_ID: 'alias/hot',
        CHAIN_CONFIRMATIONS: 1,
        CHAIN_NETWORK: 'unknown',
      });
    } finally {
      restore();
    }
  });

  it('ws-fanout: the callback URL and tables required, the concurrency bounded', async () => {
    const restore = env({
      WS_CALLBACK_URL: 'http://127.0.0.1:8081',
      CONNECTIONS_TABLE: 'c',
      MARKET_DATA_TABLE: 'm',
      TRADES_TABLE: 't',
      WS_FANOUT_CONCURRENCY: '5000',
    });
    try {
      jest.resetModules();
      const { fanOutConfig } = await import('@lambdas/ws-fanout/config');
      expect(() => fanOutConfig()).toThrow(/ws-fanout configuration is invalid[\s\S]*WS_FANOUT_CONCURRENCY/);
    } finally {
      restore();
    }
  });

  it('api: registration open, no maintenance and no operators by default; bad values named', async () => {
    const api = await import('@lambdas/api/config');
    expect(parseConfig('users', api.usersConfigSchema, {})).toEqual({ REGISTRATION_OPEN: true });
    expect(parseConfig('users', api.usersConfigSchema, { REGISTRATION_OPEN: 'false' })).toEqual({
      REGISTRATION_OPEN: false,
    });
    expect(() => parseConfig('users', api.usersConfigSchema, { REGISTRATION_OPEN: 'no' })).toThrow(
      /users configuration is invalid:[\s\S]*REGISTRATION_OPEN/,
    );
    expect(parseConfig('market-data', api.marketDataConfigSchema, {})).toEqual({ SYSTEM_MAINTENANCE: false });
    expect(parseConfig('market-data', api.marketDataConfigSchema, { SYSTEM_MAINTENANCE: '1' })).toEqual({
      SYSTEM_MAINTENANCE: true,
    });
    expect(() =>
      parseConfig('market-data', api.marketDataConfigSchema, { SYSTEM_MAINTENANCE: 'yes' }),
    ).toThrow(/market-data configuration is invalid:[\s\S]*SYSTEM_MAINTENANCE/);
    expect(parseConfig('search', api.searchConfigSchema, { SEARCH_OPERATOR_USER_IDS: ' 3, 14' })).toEqual({
      SEARCH_OPERATOR_USER_IDS: new Set([3, 14]),
    });
  });

  it("api: GET /sapi/v1/system/status answers Binance's two documented states from the switch", async () => {
    const { systemStatus } = await import('@lambdas/api/market-data');
    expect(systemStatus({ SYSTEM_MAINTENANCE: false })).toEqual({ status: 0, msg: 'normal' });
    expect(systemStatus({ SYSTEM_MAINTENANCE: true })).toEqual({ status: 1, msg: 'system_maintenance' });
  });
});
