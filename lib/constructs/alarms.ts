// Alarms that notify one SNS topic: a thin factory so every alarm says what broke and what to check first.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface AlarmsProps {
  topic: sns.ITopic;
  /** Prefix of every alarm name, e.g. `cirrus-prod`. */
  namePrefix: string;
}

export interface ThresholdAlarmProps {
  metric: cloudwatch.IMetric;
  threshold: number;
  /** What it means and the first thing to check (shown in the notification; see docs/deploy.md). */
  description: string;
  comparison?: cloudwatch.ComparisonOperator;
  evaluationPeriods?: number;
  datapointsToAlarm?: number;
  treatMissingData?: cloudwatch.TreatMissingData;
}

export class Alarms extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly action: actions.SnsAction;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: AlarmsProps,
  ) {
    super(scope, id);
    this.action = new actions.SnsAction(props.topic);
  }

  threshold(id: string, p: ThresholdAlarmProps): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: `${this.props.namePrefix}-${id}`,
      alarmDescription: p.description,
      metric: p.metric,
      threshold: p.threshold,
      comparisonOperator: p.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: p.evaluationPeriods ?? 1,
      datapointsToAlarm: p.datapointsToAlarm,
      treatMissingData: p.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }

  /** Errors and throttles of one function: any throttle or error is worth a look on an exchange. */
  lambdaErrorsAndThrottles(name: string, fn: lambda.IFunction): void {
    const period = Duration.minutes(5);
    this.threshold(`${name}-Errors`, {
      metric: fn.metricErrors({ period, statistic: 'Sum' }),
      threshold: 1,
      description: `${name} Lambda threw errors. Check its log group for the error and the request id.`,
    });
    this.threshold(`${name}-Throttles`, {
      metric: fn.metricThrottles({ period, statistic: 'Sum' }),
      threshold: 1,
      description: `${name} Lambda was throttled. Check account concurrency and reserved concurrency.`,
    });
  }
}
