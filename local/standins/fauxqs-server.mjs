// fauxqs is ESM-only: this launcher runs it in its own process. Usage: node fauxqs-server.mjs PORT
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1', logger: false });
process.stdout.write(`ready ${server.port}\n`);
const stop = () => server.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
// The exchange was killed (kill -9 leaves no exit hook to run): do not outlive it.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stop(), 1_000).unref();
