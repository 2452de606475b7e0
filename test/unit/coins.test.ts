// GET /sapi/v1/capital/config/getall's mapping (lambdas/api/coins.ts): the wallet's configuration (chain coins,
// withdrawal rules, the listener's confirmations) and a user's holdings → Binance's coin and network entries,
// checked against the vendored Binance schema.
import { checkResponse } from '../fixtures/binance-openapi/validate';
import { coinList, coinsConfig, plainUnits, type UserHoldings } from '@lambdas/api/coins';

const USDT_TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
const env = {
  CHAIN_TOKENS: JSON.stringify({ USDT: USDT_TOKEN }),
  CHAIN_CONFIRMATIONS: '12',
  WITHDRAW_FEES: JSON.stringify({ ETH: '0.0005', USDT: '1' }),
  WITHDRAW_DAILY_LIMITS: JSON.stringify({ ETH: '3', USDT: '500' }),
  WITHDRAW_GLOBAL_DAILY_LIMITS: JSON.stringify({ ETH: '1000', USDT: '300' }),
};
const none: UserHoldings = { available: 0n, locked: 0n, withdrawing: 0n };

describe('getall mapping', () => {
  const coins = coinList(coinsConfig(env), (coin) =>
    coin === 'ETH' ? { available: 123_456_789n, locked: 50_050_000n, withdrawing: 50_050_000n } : none,
  );
  const byCoin = Object.fromEntries(coins.map((c) => [c.coin, c]));

  it('fits Binance’s schema, every listed asset in order', () => {
    expect(coins.map((c) => c.coin)).toEqual(['BTC', 'ETH', 'USDT']);
    expect(checkResponse('/sapi/v1/capital/config/getall', coins)).toEqual([]);
  });

  it('ETH: deposits and withdrawals open on network ETH, with the configured fee, limits and confirmations', () => {
    expect(byCoin.ETH).toMatchObject({
      depositAllEnable: true,
      withdrawAllEnable: true,
      name: 'Ethereum',
      free: '1.23456789',
      locked: '0.50050000',
      withdrawing: '0.50050000',
      freeze: '0.00000000',
      trading: true,
      isLegalMoney: false,
    });
    expect(byCoin.ETH.networkList).toEqual([
      expect.objectContaining({
        network: 'ETH',
        coin: 'ETH',
        name: 'Ethereum (ERC20)',
        isDefault: true,
        depositEnable: true,
        withdrawEnable: true,
        withdrawFee: '0.0005',
        // more than the fee, by one step
        withdrawMin: '0.00050001',
        // the user's 3 a day, fee included
        withdrawMax: '2.9995',
        withdrawIntegerMultiple: '0.00000001',
        depositDust: '0.00000001',
        minConfirm: 12,
        unLockConfirm: 12,
        addressRegex: '^(0x)[0-9A-Fa-f]{40}$',
        memoRegex: '',
        sameAddress: false,
      }),
    ]);
    expect(byCoin.ETH.networkList[0]).not.toHaveProperty('contractAddress');
  });

  it('USDT: the token’s contract; steps of the token’s 6 decimals; the exchange-wide limit when lower', () => {
    expect(byCoin.USDT).toMatchObject({
      depositAllEnable: true,
      withdrawAllEnable: true,
      free: '0.00000000',
    });
    expect(byCoin.USDT.networkList).toEqual([
      expect.objectContaining({
        network: 'ETH',
        coin: 'USDT',
        depositEnable: true,
        withdrawEnable: true,
        withdrawFee: '1',
        withdrawMin: '1.000001',
        withdrawMax: '300',
        withdrawIntegerMultiple: '0.000001',
        depositDust: '0.000001',
        contractAddress: USDT_TOKEN.toLowerCase(),
      }),
    ]);
  });

  it('BTC (internal): one network with deposits and withdrawals closed, and why', () => {
    expect(byCoin.BTC).toMatchObject({ depositAllEnable: false, withdrawAllEnable: false, name: 'Bitcoin' });
    expect(byCoin.BTC.networkList).toEqual([
      expect.objectContaining({
        network: 'BTC',
        depositEnable: false,
        withdrawEnable: false,
        depositDesc: expect.stringContaining('internal'),
        withdrawDesc: expect.stringContaining('internal'),
        withdrawFee: '0',
      }),
    ]);
  });

  it('a chain coin without withdrawal rules takes deposits only; no tokens: ETH alone on the chain', () => {
    const list = coinList(
      coinsConfig({ ...env, WITHDRAW_FEES: JSON.stringify({ ETH: '0.0005' }) }),
      () => none,
    );
    const usdt = list.find((c) => c.coin === 'USDT')!;
    expect(usdt).toMatchObject({ depositAllEnable: true, withdrawAllEnable: false });
    expect(usdt.networkList[0]).toMatchObject({ withdrawEnable: false, withdrawFee: '0', withdrawMax: '0' });
    const noTokens = coinList(coinsConfig({ CHAIN_CONFIRMATIONS: '1' }), () => none);
    expect(noTokens.find((c) => c.coin === 'USDT')!.networkList[0]).toMatchObject({
      network: 'USDT',
      depositEnable: false,
    });
    expect(noTokens.find((c) => c.coin === 'ETH')!.networkList[0]).toMatchObject({ minConfirm: 1 });
  });

  it('without CHAIN_CONFIRMATIONS it refuses to guess', () => {
    expect(() => coinsConfig({ CHAIN_TOKENS: env.CHAIN_TOKENS })).toThrow(/CHAIN_CONFIRMATIONS/);
    expect(() => coinsConfig({ CHAIN_CONFIRMATIONS: '0' })).toThrow();
  });

  it('prints amounts from bigint units without trailing zeros', () => {
    expect(plainUnits(50_000n, 8)).toBe('0.0005');
    expect(plainUnits(100_000_000n, 8)).toBe('1');
    expect(plainUnits(0n, 8)).toBe('0');
    expect(plainUnits(1n, 8)).toBe('0.00000001');
    expect(plainUnits(99_999_999_999_999_999_999n, 8)).toBe('999999999999.99999999');
  });
});
