// A regional WAF web ACL: a per-IP rate rule and AWS managed rule groups (common, known bad inputs).
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface RegionalWebAclProps {
  name: string;
  /** Requests per client IP per 5 minutes before WAF blocks it. */
  rateLimitPer5Min: number;
  /** ARNs to associate (API Gateway REST stages). */
  associate: Record<string, string>;
}

const RATE_LIMITED_BODY = 'rate-limited';

const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
  cloudWatchMetricsEnabled: true,
  sampledRequestsEnabled: true,
  metricName,
});

export class RegionalWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: RegionalWebAclProps) {
    super(scope, id);
    const managed = (name: string, priority: number): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.name),
      // A blocked client gets Binance's rate-limit answer, which clients such as ccxt back off on.
      customResponseBodies: {
        [RATE_LIMITED_BODY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify({
            code: -1003,
            msg: `Too many requests; current limit is ${props.rateLimitPer5Min} requests per 5 MINUTE per IP. Please use WebSocket Streams for live updates to avoid polling the API.`,
          }),
        },
      },
      rules: [
        {
          // Cloudflare forwards the client address in CF-Connecting-IP; the source IP is Cloudflare's.
          name: 'RatePerClientIp',
          priority: 0,
          action: {
            block: {
              customResponse: {
                responseCode: 429,
                customResponseBodyKey: RATE_LIMITED_BODY,
                responseHeaders: [{ name: 'Retry-After', value: '60' }],
              },
            },
          },
          statement: {
            rateBasedStatement: {
              limit: props.rateLimitPer5Min,
              aggregateKeyType: 'FORWARDED_IP',
              forwardedIpConfig: { headerName: 'CF-Connecting-IP', fallbackBehavior: 'MATCH' },
            },
          },
          visibilityConfig: visibility('RatePerClientIp'),
        },
        managed('AWSManagedRulesCommonRuleSet', 1),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
      ],
    });
    for (const [name, arn] of Object.entries(props.associate)) {
      new wafv2.CfnWebACLAssociation(this, `Association${name}`, {
        resourceArn: arn,
        webAclArn: this.webAcl.attrArn,
      });
    }
  }
}
