// Loaded into the stream consumers' process by the pipeline bench (CONSUMERS_NODE_ARGS=--import <this file>):
// counts their requests as the bench counts the exchange's own (request-counter.ts).
import { reportToFile } from './request-counter';

if (process.env.BENCH_COUNTS_FILE) reportToFile(process.env.BENCH_COUNTS_FILE);
