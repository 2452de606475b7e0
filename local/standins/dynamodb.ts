// DynamoDB Local (AWS's own jar, shipped in npm amplify-dynamodb-simulator) on the machine's Java.
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { claimPort, killWithParent, niced, stopChild, type Standin } from './ports';

export async function startDynamoDb(opts: { port: number; dataDir?: string }): Promise<Standin> {
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0)
    throw new Error('Java 17+ is required for DynamoDB Local (apt-get install openjdk-17-jre-headless)');
  const port = await claimPort(opts.port, 'DynamoDB Local');
  const pkg = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const storage = opts.dataDir ? ['-dbPath', opts.dataDir] : ['-inMemory'];
  // Below the order path in the CPU's queue (nice 10; DYNAMODB_NICE=0 to turn off): on one machine the read
  // models and the fan-out's reads wait for the accept, match and settle work rather than slow it down; under
  // overload they catch up after (docs/operations.md#local-exchange, docs/performance.md).
  const [command, ...args] = niced(Number(process.env.DYNAMODB_NICE ?? 10), [
    'java',
    // The client compiler only and one GC thread: on a small machine the server compiler's warm-up and
    // parallel GC take whole cores for seconds, stalling every other stand-in (measured in
    // docs/performance.md); steady-state speed is about the same.
    '-XX:TieredStopAtLevel=1',
    '-XX:+UseSerialGC',
    `-Djava.library.path=${join(pkg, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(pkg, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
    ...storage,
  ]);
  const child = spawn(
    command,
    args,
    // DynamoDB Local writes a metadata file into its working directory: keep it out of the checkout.
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: opts.dataDir ?? tmpdir() },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const release = killWithParent(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited: ${stderr.slice(-500)}`);
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (err) {
        if (i > 300) throw new Error(`DynamoDB Local did not come up: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    stop: () => {
      release();
      return stopChild(child);
    },
  };
}
