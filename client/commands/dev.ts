/** `conveyor dev up | down | status`: the embedded stack on this machine. */
import type { Command } from 'commander';
import type { ConveyorConfig } from '../../workers/config';

/** The stack's code (and the clients it needs) loads only when a `dev` command runs. */
const loadStack = async () => {
  const [stack, { loadConfig }] = await Promise.all([import('../dev/stack.js'), import('../../workers/config.js')]);
  return { ...stack, config: loadConfig() };
};

/** Prints where to find the stack once it is up. */
export function printStackAddresses(config: ConveyorConfig): void {
  console.log(`Temporal UI:   http://localhost:${config.temporal.uiPort}`);
  console.log(`Temporal:      ${config.temporal.address} (namespace ${config.temporal.namespace})`);
  console.log(
    `MinIO:         http://${config.s3.endPoint}:${config.s3.port} ` +
      `(console :${config.s3.consolePort}, bucket ${config.s3.bucket})`,
  );
  console.log(`API and web:   http://${config.api.host}:${config.api.port}`);
  console.log(`Prometheus:    http://127.0.0.1:${config.prometheus.port} (routers and workers)`);
  console.log(`Data dir:      ${config.dataDir}`);
}

/** Registers `conveyor dev`. */
export function registerDevCommand(program: Command): void {
  const dev = program
    .command('dev')
    .description('run the embedded stack (Temporal dev server, MinIO, Prometheus, worker, API server)');
  dev
    .command('up')
    .description('start the stack, reusing whatever already runs (and restarting what crashed)')
    .action(async () => {
      const { stackUp, config } = await loadStack();
      await stackUp(config, (line) => console.log(line));
      printStackAddresses(config);
    });
  dev
    .command('down')
    .description('stop the stack (runs and objects stay in the data dir)')
    .action(async () => {
      const { stackDown, config } = await loadStack();
      await stackDown(config, (line) => console.log(line));
    });
  dev
    .command('status')
    .description('show which services run; exits 1 when any is down')
    .action(async () => {
      const { stackStatus, config } = await loadStack();
      const services = await stackStatus(config);
      for (const service of services) {
        const state = service.up ? 'up' : service.pid ? 'starting or unhealthy' : 'down';
        const pid = service.pid ? `pid ${service.pid}` : '';
        console.log(`${service.name.padEnd(11)} ${state.padEnd(22)} ${service.address}  ${pid}`);
      }
      if (services.some((service) => !service.up)) process.exitCode = 1;
    });
}
