// kinesalite in its own process. Usage: node kinesalite-server.mjs PORT [DATA_DIR] (in memory without one).
import kinesalite from 'kinesalite';

const [port, path] = [Number(process.argv[2] ?? 0), process.argv[3]];
const server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
server.listen(port, '127.0.0.1', (err) => {
  if (err) {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  }
  process.stdout.write(`ready ${port}\n`);
});
const stop = () => {
  // The store is closed first; open keep-alive sockets get a second at most.
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The exchange was killed (kill -9 leaves no exit hook to run): do not outlive it.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stop(), 1_000).unref();
