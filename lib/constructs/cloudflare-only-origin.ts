// A REST API that only Cloudflare can reach: a regional custom domain whose mTLS truststore holds the
// Cloudflare authenticated-origin-pull CA (so only Cloudflare's edge presents an accepted client
// certificate), the execute-api endpoint disabled on the API itself, and a WAF web ACL on the stage.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { REPO_ROOT } from './cirrus-function';

export interface CloudflareOnlyOriginProps {
  api: apigw.RestApi;
  domainName: string;
  certificateArn: string;
  /** PEM bundle of the Cloudflare origin-pull CA, repo-relative or absolute. */
  caBundlePath: string;
  /** Refuse a bundle without a PEM certificate (prod: never ship the placeholder). */
  requireCertificate: boolean;
}

export const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export class CloudflareOnlyOrigin extends Construct {
  readonly domain: apigw.DomainName;

  constructor(scope: Construct, id: string, props: CloudflareOnlyOriginProps) {
    super(scope, id);
    const bundlePath = path.isAbsolute(props.caBundlePath)
      ? props.caBundlePath
      : path.join(REPO_ROOT, props.caBundlePath);
    const pem = fs.readFileSync(bundlePath, 'utf8');
    if (props.requireCertificate && !PEM_CERTIFICATE.test(pem)) {
      throw new Error(
        `${props.caBundlePath} holds no PEM certificate: replace it with Cloudflare's origin-pull CA (docs/deploy.md)`,
      );
    }
    // The truststore is an S3 object: the CDK asset bucket holds it, versioned by content hash.
    const truststore = new s3assets.Asset(this, 'Truststore', { path: bundlePath });
    this.domain = new apigw.DomainName(this, 'Domain', {
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      endpointType: apigw.EndpointType.REGIONAL,
      securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      mtls: { bucket: truststore.bucket, key: truststore.s3ObjectKey },
    });
    this.domain.addBasePathMapping(props.api, { stage: props.api.deploymentStage });
  }
}
