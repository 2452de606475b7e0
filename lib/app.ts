// Builds the Cirrus CDK app for one stage; bin/cirrus.ts and the infrastructure tests both call it.
// Stacks are split by lifecycle: keys, network and stateful data change rarely and are retained in prod;
// compute (engine, API, workers) redeploys freely on top of them.
import { App, Validations, type Environment } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStageConfig } from './config';
import { DEFAULT_ENGINE_SHARDS } from '@contracts/resources';
import { ApiStack, API_STAGE_NAME } from './stacks/api-stack';
import { ChainStack } from './stacks/chain-stack';
import { DataStack } from './stacks/data-stack';
import { EngineStack } from './stacks/engine-stack';
import { KeysStack } from './stacks/keys-stack';
import { MessagingStack } from './stacks/messaging-stack';
import { MonitoringStack } from './stacks/monitoring-stack';
import { NetworkStack } from './stacks/network-stack';
import { SearchStack, wireSearchIndexer } from './stacks/search-stack';
import { WorkersStack } from './stacks/workers-stack';
import { WsFanoutStack } from './stacks/ws-fanout-stack';
import type { DatabaseRole } from '@contracts/migrations';

export interface BuildAppOptions {
  /** Register cdk-nag AwsSolutions checks (default on). */
  nag?: boolean;
  /** Tests pass a registry image so synth needs no Docker build context. */
  engineImage?: ecs.ContainerImage;
}

export function buildApp(app: App, opts: BuildAppOptions = {}) {
  const config = loadStageConfig((k) => app.node.tryGetContext(k));
  const env: Environment | undefined = config.account
    ? { account: config.account, region: config.region }
    : undefined;
  const prefix = `Cirrus-${config.stage}`;
  const shards = DEFAULT_ENGINE_SHARDS;

  const keys = new KeysStack(app, `${prefix}-Keys`, config, { env });
  const network = new NetworkStack(app, `${prefix}-Network`, config, { env });
  const data = new DataStack(app, `${prefix}-Data`, config, { env, vpc: network.vpc, dataKey: keys.dataKey });
  const messaging = new MessagingStack(app, `${prefix}-Messaging`, config, keys.dataKey, shards, { env });
  const search = new SearchStack(app, `${prefix}-Search`, config, {
    env,
    vpc: network.vpc,
    dataKey: keys.dataKey,
  });
  const chain = new ChainStack(app, `${prefix}-Chain`, config, {
    env,
    vpc: network.vpc,
    dataKey: keys.dataKey,
  });
  const engine = new EngineStack(app, `${prefix}-Engine`, config, {
    env,
    vpc: network.vpc,
    orderQueues: messaging.orderQueues,
    eventStream: messaging.eventStream,
    snapshotBucket: messaging.snapshotBucket,
    dataKey: keys.dataKey,
    shards,
    image: opts.engineImage,
  });
  // Each family connects as its own database login (docs/architecture.md#database-roles): the master secret
  // goes to Workers for the migration function alone; the others get their role's login secret.
  const database = {
    databaseProxy: data.proxy,
    databaseSecret: data.database.secret!,
    databaseClientSecurityGroup: data.databaseClientSecurityGroup,
  };
  const loginOf = (role: DatabaseRole) => ({ ...database, databaseSecret: data.databaseLogins[role] });
  const api = new ApiStack(app, `${prefix}-Api`, config, {
    env,
    vpc: network.vpc,
    dataKey: keys.dataKey,
    tables: data.tables,
    orderQueues: messaging.orderQueues,
    shards,
    ...loginOf('cirrus_api'),
    depositXpubSecret: chain.depositXpubSecret,
    searchDomain: search.domain,
    searchClientSecurityGroup: search.clientSecurityGroup,
  });
  const workers = new WorkersStack(app, `${prefix}-Workers`, config, {
    env,
    vpc: network.vpc,
    dataKey: keys.dataKey,
    hotWalletKey: keys.hotWalletKey,
    tables: data.tables,
    eventStream: messaging.eventStream,
    walletEventStream: messaging.walletEventStream,
    orderQueues: messaging.orderQueues,
    snapshotBucket: messaging.snapshotBucket,
    shards,
    ...database,
    searchDomain: search.domain,
    searchClientSecurityGroup: search.clientSecurityGroup,
    chainRpcUrl: chain.rpcUrl,
    walletSecurityGroup: chain.walletSecurityGroup,
    listenerSecurityGroup: chain.listenerSecurityGroup,
    webSocketStage: api.webSocketStage,
    webSocketPushPolicy: api.webSocketPushPolicy,
  });
  // The wallet and indexer roles are imported by name: deploy the stacks that create them first.
  workers.addStackDependency(keys);
  workers.addStackDependency(search);
  // The indexer reads each batch's order rows and maps the API's search role (lib/stacks/search-stack.ts).
  wireSearchIndexer(workers.searchIndexer, {
    ...loginOf('cirrus_search_indexer'),
    searchClientSecurityGroup: search.clientSecurityGroup,
    readerRole: api.searchFunction.role!,
  });
  // The WebSocket fan-out: a third stream consumer, posting market streams to the WebSocket API; a nested
  // stack of Workers (deployed with the other consumers, its resources in a template of their own).
  const wsFanout = new WsFanoutStack(workers, 'WsFanout', config, {
    dataKey: keys.dataKey,
    tables: data.tables,
    eventStream: messaging.eventStream,
    walletEventStream: messaging.walletEventStream,
    webSocketStage: api.webSocketStage,
    webSocketPushPolicy: api.webSocketPushPolicy,
    vpc: network.vpc,
    ...loginOf('cirrus_ws_fanout'),
  });
  const monitoring = new MonitoringStack(app, `${prefix}-Monitoring`, config, {
    env,
    dataKey: keys.dataKey,
    orderQueues: messaging.orderQueues,
    engineServices: engine.services,
    restApi: api.restApi,
    webSocketApi: api.webSocketApi,
    webSocketStageName: API_STAGE_NAME,
    functions: { ...api.functions, ...workers.functions, ...wsFanout.functions },
    streamConsumers: { ...workers.streamConsumers, WsFanout: wsFanout.fanout },
    streamFailureQueues: { ...workers.failureQueues, WsFanout: wsFanout.failures },
    database: data.database,
  });
  if (opts.nag !== false) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return {
    config,
    keys,
    network,
    data,
    messaging,
    search,
    chain,
    engine,
    api,
    workers,
    wsFanout,
    monitoring,
  };
}
