// Builds the Cirrus CDK app for one stage; bin/cirrus.ts and the infrastructure tests both call it.
import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStageConfig } from './config';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { DataStack } from './stacks/data-stack';
import { EngineStack } from './stacks/engine-stack';
import { NetworkStack } from './stacks/network-stack';
import { KeysStack } from './stacks/keys-stack';
import { MessagingStack } from './stacks/messaging-stack';
import { MonitoringStack } from './stacks/monitoring-stack';

export function buildApp(app: App, opts: { nag?: boolean; engineImage?: ecs.ContainerImage } = {}) {
  const config = loadStageConfig((k) => app.node.tryGetContext(k));
  const env: Environment | undefined = config.account
    ? { account: config.account, region: config.region }
    : undefined;
  const prefix = `Cirrus-${config.stage}`;
  const keys = new KeysStack(app, `${prefix}-Keys`, config, { env });
  const data = new DataStack(app, `${prefix}-Data`, config, keys.dataKey, { env });
  const messaging = new MessagingStack(app, `${prefix}-Messaging`, config, keys.dataKey, undefined, { env });
  const network = new NetworkStack(app, `${prefix}-Network`, config, { env });
  const engine = new EngineStack(app, `${prefix}-Engine`, config, {
    env,
    vpc: network.vpc,
    orderQueues: messaging.orderQueues,
    eventStream: messaging.eventStream,
    snapshotBucket: messaging.snapshotBucket,
    dataKey: keys.dataKey,
    image: opts.engineImage,
  });
  const monitoring = new MonitoringStack(app, `${prefix}-Monitoring`, config, {
    env,
    orderQueues: messaging.orderQueues,
    dataKey: keys.dataKey,
  });
  if (opts.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { config, keys, data, messaging, network, engine, monitoring };
}
