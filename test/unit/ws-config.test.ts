import { TABLES } from '@contracts/resources';
import { parseConfig } from '@lambdas/shared/config';
import { authorizerSchema, connectionsSchema, userDataSchema } from '@lambdas/ws/config';

describe('WebSocket functions configuration', () => {
  it('authorizer: the secret ARN is required, the header has its default', () => {
    expect(parseConfig('ws-authorizer', authorizerSchema, { ORIGIN_SECRET_ARN: 'arn:secret' })).toEqual({
      ORIGIN_SECRET_ARN: 'arn:secret',
      ORIGIN_SECRET_HEADER: 'X-Cirrus-Origin-Secret',
    });
    expect(
      parseConfig('ws-authorizer', authorizerSchema, { ORIGIN_SECRET_ARN: 'a', ORIGIN_SECRET_HEADER: 'X-H' })
        .ORIGIN_SECRET_HEADER,
    ).toBe('X-H');
    expect(() => parseConfig('ws-authorizer', authorizerSchema, {})).toThrow(
      /ws-authorizer configuration is invalid[\s\S]*ORIGIN_SECRET_ARN/,
    );
  });

  it('connections and user data: every table and key named in one error', () => {
    expect(() => parseConfig('ws-connect', connectionsSchema, {})).toThrow(TABLES.connections.envVar);
    const env = { DATA_KEY_ID: 'k', [TABLES.idempotency.envVar]: 'i', [TABLES.connections.envVar]: 'c' };
    expect(parseConfig('ws-user-data', userDataSchema, env)).toEqual(env);
    let message = '';
    try {
      parseConfig('ws-user-data', userDataSchema, { DATA_KEY_ID: '' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of ['DATA_KEY_ID', TABLES.idempotency.envVar, TABLES.connections.envVar])
      expect(message).toContain(name);
  });
});
