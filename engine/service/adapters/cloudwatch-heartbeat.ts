import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Heartbeat } from '../ports';

export const HEARTBEAT_NAMESPACE = 'Cirrus/Engine';
export const HEARTBEAT_METRIC = 'Heartbeat';

/** A heartbeat metric per shard: the "engine heartbeat missing" alarm treats missing data as breaching. */
export class CloudWatchHeartbeat implements Heartbeat {
  constructor(
    private readonly cloudwatch: CloudWatchClient,
    private readonly shard: string,
  ) {}

  async beat(stats: { commandsApplied: number; pendingEvents: number }): Promise<void> {
    const dimensions = [{ Name: 'Shard', Value: this.shard }];
    await this.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: HEARTBEAT_NAMESPACE,
        MetricData: [
          { MetricName: HEARTBEAT_METRIC, Dimensions: dimensions, Value: 1, Unit: 'Count' },
          {
            MetricName: 'CommandsApplied',
            Dimensions: dimensions,
            Value: stats.commandsApplied,
            Unit: 'Count',
          },
          { MetricName: 'PendingEvents', Dimensions: dimensions, Value: stats.pendingEvents, Unit: 'Count' },
        ],
      }),
    );
  }
}
