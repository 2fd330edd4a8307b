/** `conveyor serve`: the control plane's HTTP server (API, Slack, web view, /metrics) in the foreground. */
import type { Command } from 'commander';
import { CliError } from '../cli-error';

/** Registers `conveyor serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API, Slack endpoint and web view (127.0.0.1:$CONVEYOR_API_PORT, default 8080)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1, or CONVEYOR_API_HOST)')
    .option('--port <port>', 'port to listen on (default 8080, or CONVEYOR_API_PORT)')
    .action(async (flags: { host?: string; port?: string }) => {
      const env = { ...process.env };
      if (flags.host) env.CONVEYOR_API_HOST = flags.host;
      if (flags.port) {
        if (!/^\d+$/.test(flags.port) || Number(flags.port) < 1 || Number(flags.port) > 65535) {
          throw new CliError(`--port must be a port number 1-65535 (got '${flags.port}')`, 2);
        }
        env.CONVEYOR_API_PORT = flags.port;
      }
      // Loaded here, not at the top, so `conveyor --help` loads none of this (docs/runs.md#start-up).
      const [{ serve }, { loadConfig }] = await Promise.all([
        import('../../server/serve.js'),
        import('../../workers/config.js'),
      ]);
      await serve(loadConfig(env)).catch((error: unknown) => {
        throw new CliError((error as Error).message);
      });
    });
}
