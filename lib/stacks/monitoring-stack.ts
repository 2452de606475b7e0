// Alarms on the order pipeline's transport, to an SNS topic: oldest order waiting, anything in a DLQ,
// and the engine heartbeat going missing (a dead or stuck engine task).
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config';
import type { FifoQueueWithDlq } from '../constructs/fifo-queue-with-dlq';

export interface MonitoringProps extends StackProps {
  orderQueues: Record<string, FifoQueueWithDlq>;
  dataKey: kms.IKey;
}

export class MonitoringStack extends Stack {
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, config: StageConfig, props: MonitoringProps) {
    super(scope, id, props);
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: props.dataKey, enforceSSL: true });
    if (config.alarmEmail)
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const notify = new actions.SnsAction(this.alarmTopic);

    for (const [shard, q] of Object.entries(props.orderQueues)) {
      new cloudwatch.Alarm(this, `OrderQueueAge-${shard}`, {
        alarmDescription: `Orders of ${shard} wait more than 30 s: the engine is slow, stuck or down.`,
        metric: q.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1) }),
        threshold: 30,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
      new cloudwatch.Alarm(this, `OrderDlqDepth-${shard}`, {
        alarmDescription: `A command of ${shard} could not be applied and sits in the DLQ.`,
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
      new cloudwatch.Alarm(this, `EngineHeartbeat-${shard}`, {
        alarmDescription: `The engine task of ${shard} stopped reporting its heartbeat.`,
        metric: new cloudwatch.Metric({
          namespace: 'Cirrus/Engine',
          metricName: 'Heartbeat',
          dimensionsMap: { Shard: shard },
          statistic: 'Sum',
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }).addAlarmAction(notify);
    }
  }
}
