/**
 * The latency client of bench/deploy.ts, run as its own process so the bench's Temporal workers do not share its
 * event loop: `count` sequential GETs alternating between two ports (a burst of load on the shared machine hits
 * both alike), with a new connection per request or one kept-alive connection per port. Prints
 * `{"a": median ms, "b": median ms}`. Run: `node --import tsx bench/paired-latency.ts PORT_A PORT_B COUNT [keep]`.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** One GET on `agent` (false: a new connection); its time in ms. */
function timedGet(port: number, agent: http.Agent | false): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 10_000 }, (response) => {
      response.resume();
      response.once('end', () =>
        response.statusCode === 200
          ? resolve(performance.now() - start)
          : reject(new Error(`request to port ${port} failed: HTTP ${response.statusCode}`)),
      );
    });
    request.once('timeout', () => request.destroy(new Error(`request to port ${port} timed out`)));
    request.once('error', reject);
  });
}

async function main(): Promise<void> {
  const [a, b, count] = process.argv.slice(2, 5).map(Number) as [number, number, number];
  const keepAlive = process.argv[5] === 'keep';
  const agent = () => (keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : (false as const));
  const [agentA, agentB] = [agent(), agent()];
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < count; i += 1) {
    times[0].push(await timedGet(a, agentA));
    times[1].push(await timedGet(b, agentB));
  }
  for (const used of [agentA, agentB]) if (used) used.destroy();
  console.log(JSON.stringify({ a: median(times[0]), b: median(times[1]) }));
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
