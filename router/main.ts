/**
 * Entry point of a traffic router container (docs/deployments.md#traffic-routers). The worker bundles this folder
 * into one file and copies it into the container; it runs on the container's Node.js. `ROUTER_KIND` chooses the
 * builtin proxy or the nginx agent. The route table is kept in `ROUTER_STATE`, so a restarted container serves the
 * last table at once, with no worker involved.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { emptyRouteTable, type RouteTable } from '../deploy/route-table';
import { startAdminServer, type RouterEngine } from './admin';
import { BuiltinRouter } from './builtin';
import { createRouterMetrics } from './metrics';
import { NginxRouter } from './nginx-agent';
import { SampleRing } from './samples';

const env = process.env;
const ports = {
  traffic: Number(env.ROUTER_TRAFFIC_PORT ?? 8080),
  preview: Number(env.ROUTER_PREVIEW_PORT ?? 8081),
  admin: Number(env.ROUTER_ADMIN_PORT ?? 9100),
  control: Number(env.ROUTER_CONTROL_PORT ?? 9101),
};
const stateFile = env.ROUTER_STATE ?? '/tmp/conveyor-router/routes.json';

function loadState(): { table: RouteTable; generation: number } {
  try {
    if (existsSync(stateFile))
      return JSON.parse(readFileSync(stateFile, 'utf8')) as { table: RouteTable; generation: number };
  } catch (error) {
    console.error(`ignoring unreadable ${stateFile}: ${(error as Error).message}`);
  }
  return { table: emptyRouteTable, generation: 0 };
}

function main(): void {
  const samples = new SampleRing(Number(env.ROUTER_SAMPLES ?? 200_000));
  const metrics = createRouterMetrics();
  const record = (sample: Parameters<SampleRing['push']>[0]) => {
    samples.push(sample);
    metrics.observe(sample);
  };
  const initial = loadState();
  let engine: RouterEngine;
  if (env.ROUTER_KIND === 'nginx') {
    const nginx = new NginxRouter(ports, Number(env.ROUTER_DRAIN_SECONDS ?? 120), record, initial);
    nginx.start();
    engine = nginx;
  } else {
    const builtin = new BuiltinRouter(record, initial);
    builtin.listen(ports.traffic, ports.preview);
    engine = builtin;
  }
  metrics.applied(initial.table, initial.generation);
  // Every applied table is written down before the admin API answers, so a restart serves it again.
  const persisting: RouterEngine = {
    current: () => engine.current(),
    inflight: () => engine.inflight(),
    apply: async (table) => {
      const generation = await engine.apply(table);
      mkdirSync(path.dirname(stateFile), { recursive: true });
      writeFileSync(`${stateFile}.next`, JSON.stringify({ table, generation }));
      renameSync(`${stateFile}.next`, stateFile);
      return generation;
    },
  };
  startAdminServer(ports.admin, persisting, samples, metrics);
  console.log(`conveyor router (${env.ROUTER_KIND ?? 'builtin'}) serving generation ${initial.generation}`);
  const stop = () => process.exit(0);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
