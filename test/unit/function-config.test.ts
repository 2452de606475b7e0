// Functions' configurations (lambdas/shared/config.ts and each family's config.ts): parsed once, defaults
// applied, and every invalid variable named in one clear error at the first use.
import { z } from 'zod';
import { configOnce, parseConfig } from '../../lambdas/shared/config';

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
      const { walletConfig } = await import('../../lambdas/wallet/config');
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
      const { fanOutConfig } = await import('../../lambdas/ws-fanout/config');
      expect(() => fanOutConfig()).toThrow(/ws-fanout configuration is invalid[\s\S]*WS_FANOUT_CONCURRENCY/);
    } finally {
      restore();
    }
  });
});
