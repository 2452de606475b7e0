// Alarms to one SNS topic, and one dashboard. Each alarm's description says what it means and the first
// thing to check; docs/deploy.md repeats the list for the on-call engineer.
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import { Alarms } from '../constructs/alarms';
import type { FifoQueueWithDlq } from '../constructs/fifo-queue-with-dlq';
import { apiServiceName } from './api-stack';
import { ENGINE_METRIC_NAMESPACE } from './engine-stack';

export { ENGINE_METRIC_NAMESPACE };
/** The namespace of the functions' Powertools metrics (POWERTOOLS_METRICS_NAMESPACE, lib/constructs/cirrus-function.ts). */
export const FUNCTION_METRIC_NAMESPACE = 'Cirrus';

/**
 * A metric a function publishes with Powertools (EMF): Powertools adds one dimension, `service`, set to the
 * Metrics instance's serviceName, and CloudWatch matches an alarm's dimensions exactly.
 */
export function powertoolsMetric(service: string, metricName: string, statistic: string, period: Duration) {
  return new cloudwatch.Metric({
    namespace: FUNCTION_METRIC_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic,
    period,
  });
}

export interface MonitoringProps extends StackProps {
  dataKey: kms.IKey;
  orderQueues: Record<string, FifoQueueWithDlq>;
  engineServices: Record<string, ecs.FargateService>;
  restApi: apigw.RestApi;
  webSocketApi: apigwv2.WebSocketApi;
  webSocketStageName: string;
  /** Every Lambda by a readable name: errors and throttles alarms. */
  functions: Record<string, lambda.IFunction>;
  /** Kinesis consumers by name: iterator age alarms. */
  streamConsumers: Record<string, lambda.IFunction>;
  /** On-failure destinations of the stream consumers: depth alarms. */
  streamFailureQueues: Record<string, sqs.IQueue>;
  database: rds.DatabaseInstance;
}

export class MonitoringStack extends Stack {
  readonly alarmTopic: sns.Topic;
  readonly alarms: Alarms;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, config: StageConfig, props: MonitoringProps) {
    super(scope, id, props);
    // Declared before any grant, so key grants go to the grantee's policy and not into the key policy
    // (which would make the keys stack depend on this one: a cycle).
    this.addStackDependency(Stack.of(props.dataKey));
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `cirrus-${config.stage}-alarms`,
      masterKey: props.dataKey,
      enforceSSL: true,
    });
    if (config.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const alarms = (this.alarms = new Alarms(this, 'Alarms', {
      topic: this.alarmTopic,
      namePrefix: `cirrus-${config.stage}`,
    }));
    const minute = Duration.minutes(1);
    const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    const LT = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;

    // --- order pipeline ---------------------------------------------------------------------------------
    const engineWidgets: cloudwatch.IWidget[] = [];
    for (const [shard, q] of Object.entries(props.orderQueues)) {
      const age = q.queue.metricApproximateAgeOfOldestMessage({ period: minute });
      alarms.threshold(`OrderQueueAge-${shard}`, {
        metric: age,
        threshold: 30,
        comparison: GT,
        evaluationPeriods: 3,
        description: `Orders of ${shard} wait more than 30 s: the engine is slow, stuck or down. Check the engine task's logs and the heartbeat alarm.`,
      });
      alarms.threshold(`OrderDlqDepth-${shard}`, {
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute }),
        threshold: 0,
        comparison: GT,
        description: `A command of ${shard} could not be applied and sits in the DLQ: its funds may still be locked. Read the message and the engine log for its cmdId.`,
      });
      const heartbeat = new cloudwatch.Metric({
        namespace: ENGINE_METRIC_NAMESPACE,
        metricName: 'Heartbeat',
        dimensionsMap: { Shard: shard },
        statistic: 'Sum',
        period: minute,
      });
      alarms.threshold(`EngineHeartbeat-${shard}`, {
        metric: heartbeat,
        threshold: 1,
        comparison: LT,
        evaluationPeriods: 2,
        // No datapoint means no engine: missing data is the failure this alarm exists for.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        description: `The engine task of ${shard} stopped reporting its heartbeat. Check the ECS service events and the task's last log lines.`,
      });
      const service = props.engineServices[shard];
      const running = new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Minimum',
        period: minute,
      });
      alarms.threshold(`EngineTaskCount-${shard}`, {
        metric: running,
        threshold: 1,
        comparison: LT,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        description: `No engine task of ${shard} is running: no orders are matched. Check the ECS service events (image pull, health check, crash loop).`,
      });
      engineWidgets.push(
        new cloudwatch.GraphWidget({
          title: `Engine ${shard}`,
          left: [age],
          right: [heartbeat, running],
          width: 12,
        }),
      );
    }

    // --- stream consumers -------------------------------------------------------------------------------
    const streamWidgets: cloudwatch.IWidget[] = [];
    for (const [name, fn] of Object.entries(props.streamConsumers)) {
      const iteratorAge = fn.metric('IteratorAge', { statistic: 'Maximum', period: minute });
      alarms.threshold(`${name}-IteratorAge`, {
        metric: iteratorAge,
        threshold: 60_000,
        comparison: GT,
        evaluationPeriods: 3,
        description: `${name} is more than a minute behind the event stream. Check its errors (a poison record retries) and its duration.`,
      });
      streamWidgets.push(new cloudwatch.GraphWidget({ title: `${name} iterator age`, left: [iteratorAge] }));
    }
    for (const [name, q] of Object.entries(props.streamFailureQueues)) {
      alarms.threshold(`${name}-StreamFailures`, {
        metric: q.metricApproximateNumberOfMessagesVisible({ period: minute }),
        threshold: 0,
        comparison: GT,
        description: `${name} gave up on a stream batch: events were skipped. Read the message (shard, sequence range) and replay them after the fix.`,
      });
    }

    // --- APIs -------------------------------------------------------------------------------------------
    const rest5xx = new cloudwatch.MathExpression({
      label: 'REST 5xx rate (%)',
      expression: '100 * errors / MAX([requests, 1])',
      usingMetrics: {
        errors: props.restApi.metricServerError({ statistic: 'Sum', period: Duration.minutes(5) }),
        requests: props.restApi.metricCount({ statistic: 'Sum', period: Duration.minutes(5) }),
      },
      period: Duration.minutes(5),
    });
    alarms.threshold('Rest5xxRate', {
      metric: rest5xx,
      threshold: 1,
      comparison: GT,
      evaluationPeriods: 2,
      description:
        'More than 1 % of REST requests fail with 5xx. Check the API Lambda error alarms and the access log for the routes.',
    });
    const wsDims = { ApiId: props.webSocketApi.apiId, Stage: props.webSocketStageName };
    const wsErrors = new cloudwatch.MathExpression({
      label: 'WebSocket integration + execution errors',
      expression: 'integration + execution',
      usingMetrics: {
        integration: new cloudwatch.Metric({
          namespace: 'AWS/ApiGateway',
          metricName: 'IntegrationError',
          dimensionsMap: wsDims,
          statistic: 'Sum',
        }),
        execution: new cloudwatch.Metric({
          namespace: 'AWS/ApiGateway',
          metricName: 'ExecutionError',
          dimensionsMap: wsDims,
          statistic: 'Sum',
        }),
      },
      period: Duration.minutes(5),
    });
    alarms.threshold('WebSocketErrors', {
      metric: wsErrors,
      threshold: 10,
      comparison: GT,
      description:
        'WebSocket routes fail. Check the ws-* Lambda logs and the WebSocket access log (authorizer denials are not counted).',
    });

    // Load shedding: the trading function refuses an order with 503/-1008 when the pipeline is saturated
    // (ShedRequests); every REST function answers 429/-1003 over a client's rate (RateLimitedRequests,
    // graphed here for trading). One count per refusal, Powertools EMF under the function's
    // POWERTOOLS_SERVICE_NAME (lambdas/shared/http/load-reporter.ts). The first shed request is worth a page.
    const tradingService = apiServiceName('Trading');
    const shed = powertoolsMetric(tradingService, 'ShedRequests', 'Sum', minute);
    const rateLimited = powertoolsMetric(tradingService, 'RateLimitedRequests', 'Sum', minute);
    alarms.threshold('Api-LoadShedding', {
      metric: shed,
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No datapoint: nothing was shed in that minute.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      description:
        'The trading API refuses orders (503, -1008) because the order pipeline is saturated. Check the order queue age and engine heartbeat of each shard, the outbox age, the database connections and CPU, then the api-trading concurrency and throttles.',
    });

    for (const [name, fn] of Object.entries(props.functions)) alarms.lambdaErrorsAndThrottles(name, fn);

    // --- outbox, settlement and reconciliation (published by the functions, Powertools EMF) ------------
    const outboxAge = powertoolsMetric('outbox-relay', 'OutboxOldestUnappliedAge', 'Maximum', minute);
    alarms.threshold('OutboxOldestUnappliedAge', {
      metric: outboxAge,
      threshold: 60,
      comparison: GT,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // One datapoint per relay run (~1 a minute, at the run's end): a minute that happens to get none is
      // skipped, not counted as fine, so three runs in a row over 60 s alarm.
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      description:
        'An accepted order command has waited more than 60 s for the engine, 3 minutes running: its order hangs with funds locked. Check OutboxRelaySendFailures and the relay log first, then the engine heartbeat and order queue age of its shard.',
    });
    const relayFailures = powertoolsMetric('outbox-relay', 'OutboxRelaySendFailures', 'Sum', minute);
    alarms.threshold('OutboxRelaySendFailures', {
      metric: relayFailures,
      threshold: 0,
      comparison: GT,
      description:
        'The outbox relay could not send commands to an order queue. Check the relay log for the SQS error (access denied, KMS, queue URL) and the SQS VPC endpoint.',
    });
    alarms.threshold('BalanceEventPublishFailures', {
      metric: powertoolsMetric('outbox-relay', 'BalanceEventPublishFailures', 'Sum', minute),
      threshold: 0,
      comparison: GT,
      description:
        'The outbox relay could not put balance events on the wallet-event stream: deposits and withdrawals reach no balanceUpdate until it can (the ledger itself is right). Check the relay log for the Kinesis error (access denied, KMS, throttling).',
    });
    alarms.threshold('DataProcessor-QuarantinedRecords', {
      metric: powertoolsMetric('data-processor', 'QuarantinedRecords', 'Sum', minute),
      threshold: 0,
      comparison: GT,
      description:
        'The data processor quarantined an event record it could not settle: its trades and closes are not in the ledger. Read the error of the quarantined_records row and the processor log for its sequence number; replay it after the fix.',
    });
    const reconciliationPeriod = Duration.minutes(5);
    const reconciliation = (metricName: string) =>
      powertoolsMetric('reconciliation', metricName, 'Maximum', reconciliationPeriod);
    const reconciliationAlarms: Array<[string, string]> = [
      [
        'ConservationProblems',
        'The ledger does not balance (balances vs deposits - withdrawals, negative balances, locked vs open order locks, or a transaction not summing to zero). Read the problems in the reconciliation log and its latest audit_log row (actor reconciliation).',
      ],
      [
        'OrphanLocks',
        'Open order locks whose order the engine no longer holds: those funds stay locked. Check the data processor first (QuarantinedRecords, iterator age: an unsettled close), then the order ids in the reconciliation log.',
      ],
      [
        'UnlockedLiveOrders',
        'The engine holds live orders that have no open funds lock in the ledger. Look up the order ids from the reconciliation log in order_locks and orders, and the data processor log for an early release.',
      ],
    ];
    for (const [metricName, description] of reconciliationAlarms)
      alarms.threshold(`Reconciliation-${metricName}`, {
        metric: reconciliation(metricName),
        threshold: 0,
        comparison: GT,
        description,
      });

    // --- database ---------------------------------------------------------------------------------------
    const db = props.database;
    alarms.threshold('DatabaseCpu', {
      metric: db.metricCPUUtilization({ period: Duration.minutes(5) }),
      threshold: 80,
      comparison: GT,
      evaluationPeriods: 3,
      description:
        'The ledger database CPU is above 80 %. Check Performance Insights for the top statements.',
    });
    alarms.threshold('DatabaseFreeStorage', {
      metric: db.metricFreeStorageSpace({ period: Duration.minutes(5) }),
      threshold: 10 * 1024 ** 3,
      comparison: LT,
      description:
        'Less than 10 GiB free on the ledger database. Storage autoscaling may be at its maximum: raise it.',
    });
    alarms.threshold('DatabaseConnections', {
      metric: db.metricDatabaseConnections({ period: Duration.minutes(5) }),
      threshold: config.stage === 'prod' ? 800 : 150,
      comparison: GT,
      evaluationPeriods: 2,
      description:
        'Database connections near the limit. Check the RDS Proxy pinning metrics and Lambda concurrency.',
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `cirrus-${config.stage}`,
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: alarms.alarms,
            width: 24,
            height: 6,
          }),
        ],
        engineWidgets,
        streamWidgets,
        [
          new cloudwatch.GraphWidget({ title: 'Outbox', left: [outboxAge], right: [relayFailures] }),
          new cloudwatch.GraphWidget({
            title: 'Reconciliation',
            left: [
              'ConservationProblems',
              'OrphanLocks',
              'UnlockedLiveOrders',
              'QuarantinedRecords',
              'StaleOutboxRows',
            ].map(reconciliation),
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'REST 5xx rate', left: [rest5xx] }),
          new cloudwatch.GraphWidget({ title: 'Trading refusals', left: [shed, rateLimited] }),
          new cloudwatch.GraphWidget({ title: 'WebSocket errors', left: [wsErrors] }),
          new cloudwatch.GraphWidget({
            title: 'Ledger database',
            left: [db.metricCPUUtilization()],
            right: [db.metricDatabaseConnections()],
          }),
        ],
      ],
    });
  }
}
