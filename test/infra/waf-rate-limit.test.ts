// The regional WAF's per-IP rate rule answers as Binance does when a client exceeds its limit (HTTP 429,
// {code:-1003}, Retry-After), so clients back off instead of seeing an opaque 403
// (docs/operations.md#overload-and-rate-limits).
import { Match } from 'aws-cdk-lib/assertions';
import { synthTemplates } from '../support/cdk-synth';

const { api } = synthTemplates();

test('the rate rule blocks with 429, a Binance -1003 body and Retry-After', () => {
  const acls = api.findResources('AWS::WAFv2::WebACL');
  expect(Object.keys(acls)).toHaveLength(1);
  const acl = Object.values(acls)[0].Properties as {
    CustomResponseBodies: Record<string, { ContentType: string; Content: string }>;
    Rules: Array<{ Name: string; Action?: { Block?: { CustomResponse?: Record<string, unknown> } } }>;
  };
  const rule = acl.Rules.find((r) => r.Name === 'RatePerClientIp');
  expect(rule?.Action?.Block?.CustomResponse).toEqual({
    ResponseCode: 429,
    CustomResponseBodyKey: 'rate-limited',
    ResponseHeaders: [{ Name: 'Retry-After', Value: '60' }],
  });
  const body = acl.CustomResponseBodies['rate-limited'];
  expect(body.ContentType).toBe('APPLICATION_JSON');
  expect(JSON.parse(body.Content)).toEqual({ code: -1003, msg: expect.stringMatching(/^Too many requests/) });
  api.hasResourceProperties('AWS::WAFv2::WebACL', {
    Rules: Match.arrayWith([Match.objectLike({ Name: 'RatePerClientIp', Priority: 0 })]),
  });
});
