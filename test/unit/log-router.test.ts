// What `npm start` shows of the components' logs (docs/operations.md#logs): full JSON lines kept per
// component, warnings and errors as one readable console line with component and request id.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { LogRouter, runAs } from '@local/logs';

const json = (o: Record<string, unknown>) => JSON.stringify({ timestamp: '2026-11-25T10:11:12.345Z', ...o });

describe('log router', () => {
  it('keeps every JSON line in its component file and prints WARN and above as one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cirrus-logs-'));
    const printed: string[] = [];
    const logs = new LogRouter({ dir, print: (l) => printed.push(l) });
    logs.line('engine', json({ level: 'INFO', message: 'snapshot saved' }));
    logs.line(
      'api-trading',
      json({
        level: 'ERROR',
        message: 'unhandled error',
        requestId: 'r-1',
        err: 'Error: boom\n    at x (y.ts:1:1)',
      }),
    );
    logs.line('api-trading', json({ _aws: { CloudWatchMetrics: [] }, ShedRequests: 1 }));
    await logs.close();
    expect(printed).toEqual(['10:11:12.345 api-trading    ERROR unhandled error: Error: boom [request r-1]']);
    expect(readFileSync(join(dir, 'engine.log'), 'utf8')).toContain('"snapshot saved"');
    expect(readFileSync(join(dir, 'api-trading.log'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(dir, 'metrics.log'), 'utf8')).toContain('ShedRequests');
  });

  it('honours the console level', () => {
    const printed: string[] = [];
    const logs = new LogRouter({ consoleLevel: 'INFO', print: (l) => printed.push(l) });
    logs.line('engine', json({ level: 'DEBUG', message: 'quiet' }));
    logs.line('engine', json({ level: 'INFO', message: 'engine recovered' }));
    expect(printed).toEqual(['10:11:12.345 engine         INFO  engine recovered']);
  });

  it("splits a child's stream into lines; stderr text without a level counts as a warning", () => {
    const printed: string[] = [];
    const logs = new LogRouter({ print: (l) => printed.push(l) });
    const out = new PassThrough();
    const err = new PassThrough();
    logs.pipe('engine', out);
    logs.pipe('engine', err, true);
    out.write(json({ level: 'WARN', message: 'slow ' }).slice(0, 20));
    out.write(json({ level: 'WARN', message: 'slow ' }).slice(20) + '\n');
    err.write('(node:1) Warning: something\n');
    err.write('Error: crashed\n    at a (a.ts:1:1)\n    at b (b.ts:2:2)\n');
    expect(printed).toHaveLength(3);
    expect(printed[2]).toMatch(/engine +WARN +Error: crashed \(\+2 lines in engine\.log\)$/);
    expect(printed[0]).toMatch(/engine +WARN +slow/);
    expect(printed[1]).toMatch(/engine +WARN +\(node:1\) Warning: something$/);
  });

  it('attributes in-process output to the invocation that wrote it', () => {
    const printed: string[] = [];
    const logs = new LogRouter({ print: (l) => printed.push(l) });
    const release = logs.captureProcess('exchange');
    try {
      runAs({ component: 'data-processor', requestId: 'inv-9' }, () => {
        process.stdout.write(`${json({ level: 'WARN', message: 'record quarantined' })}\n`);
      });
      process.stderr.write(`${json({ level: 'ERROR', message: 'outside any invocation' })}\n`);
    } finally {
      release();
    }
    expect(printed).toEqual([
      '10:11:12.345 data-processor WARN  record quarantined [request inv-9]',
      '10:11:12.345 exchange       ERROR outside any invocation',
    ]);
  });
});
