import { createHash } from 'node:crypto';
import { handler, matchesAny } from '@lambdas/ws/authorizer';

const digest = (s: string) => createHash('sha256').update(s).digest();

describe('WebSocket origin-secret authorizer', () => {
  it('accepts the current or the previous secret, nothing else', () => {
    const accepted = [digest('current-secret'), digest('previous-secret')];
    expect(matchesAny('current-secret', accepted)).toBe(true);
    expect(matchesAny('previous-secret', accepted)).toBe(true);
    expect(matchesAny('current-secre', accepted)).toBe(false);
    expect(matchesAny('', accepted)).toBe(false);
    expect(matchesAny('current-secret', [])).toBe(false);
  });

  it('rejects a malformed event before looking at any secret', async () => {
    await expect(handler({ type: 'TOKEN', methodArn: 'arn:x' })).rejects.toThrow('Unauthorized');
    await expect(handler({})).rejects.toThrow('Unauthorized');
  });
});
