// Binance stream names (lambdas/ws/streams.ts): what SUBSCRIBE, UNSUBSCRIBE and the connect path accept, and the
// malformed variants they refuse (answered `Invalid request: unknown stream …` by lambdas/ws/messages.ts).
import { isValidStream, parseStream, partialDepthLevels } from '@lambdas/ws/streams';

describe('stream names', () => {
  it.each([
    ['btcusdt@trade', { symbol: 'BTCUSDT', kind: 'trade' }],
    ['btcusdt@aggTrade', { symbol: 'BTCUSDT', kind: 'aggTrade' }],
    ['ethusdt@depth', { symbol: 'ETHUSDT', kind: 'depth' }],
    ['btcusdt@depth5', { symbol: 'BTCUSDT', kind: 'depth5' }],
    ['btcusdt@depth10', { symbol: 'BTCUSDT', kind: 'depth10' }],
    ['btcusdt@depth20', { symbol: 'BTCUSDT', kind: 'depth20' }],
    ['btcusdt@depth5@100ms', { symbol: 'BTCUSDT', kind: 'depth5@100ms' }],
    ['ethusdt@depth20@100ms', { symbol: 'ETHUSDT', kind: 'depth20@100ms' }],
    ['btcusdt@kline_1m', { symbol: 'BTCUSDT', kind: 'kline_1m' }],
    ['!ticker@arr', { allMarkets: true, kind: 'ticker' }],
    ['!miniTicker@arr', { allMarkets: true, kind: 'miniTicker' }],
  ])('accepts %s', (name, parsed) => {
    expect(parseStream(name)).toEqual(parsed);
    expect(isValidStream(name)).toBe(true);
  });

  it.each([
    'btcusdt@aggtrade', // case matters, as on Binance
    'BTCUSDT@aggTrade',
    'btcusdt@aggTrade@100ms',
    'btcusdt@depth1',
    'btcusdt@depth15',
    'btcusdt@depth50',
    'btcusdt@depth05',
    'btcusdt@depth5@1000ms',
    'btcusdt@depth5@100',
    'btcusdt@depth5@',
    'btcusdt@depth5@100ms@100ms',
    'dogeusdt@depth5',
    '!ticker',
    '!ticker@ARR',
    '!miniticker@arr',
    '!miniTicker@arr@100ms',
    '!bookTicker',
    '!ticker_1h@arr',
    'btcusdt@ticker@arr',
    '@aggTrade',
    '',
  ])('refuses %j', (name) => {
    expect(parseStream(name)).toBeUndefined();
    expect(isValidStream(name)).toBe(false);
  });

  it('partial depth level counts', () => {
    expect(
      ['depth5', 'depth10@100ms', 'depth20', 'depth', 'depth@100ms', 'depth15'].map(partialDepthLevels),
    ).toEqual([5, 10, 20, undefined, undefined, undefined]);
  });
});
