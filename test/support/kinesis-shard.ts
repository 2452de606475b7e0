// A one-shard stream on its own kinesalite stand-in, for the unit tests of the shared shard reader
// (local/triggers/shard-feed.ts): the client, the shard's id, and a count of the GetRecords calls the client
// has made (tests set it to 0 before what they measure).
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startKinesis } from '@local/standins/kinesis';

export interface KinesisShard {
  kinesis: KinesisClient;
  stream: string;
  shardId: string;
  /** GetRecords calls made through `kinesis`; writable, so a test can start counting from 0. */
  getRecords: number;
  stop(): Promise<void>;
}

export async function startKinesisShard(stream: string): Promise<KinesisShard> {
  const standin = await startKinesis({ port: 0 });
  const kinesis = new KinesisClient({
    endpoint: standin.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  const shard: KinesisShard = {
    kinesis,
    stream,
    shardId: '',
    getRecords: 0,
    stop: async () => {
      kinesis.destroy();
      await standin.stop();
    },
  };
  try {
    kinesis.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'GetRecordsCommand') shard.getRecords++;
        return next(args);
      },
      { step: 'initialize', name: 'countGetRecords' },
    );
    await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
    for (;;) {
      const d = await kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
      if (d.StreamDescription?.StreamStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    shard.shardId = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards![0].ShardId!;
    return shard;
  } catch (err) {
    await shard.stop();
    throw err;
  }
}
