/**
 * `conveyor deploy …`: see and steer deployments (docs/deployments.md#the-cli). Every subcommand takes `--json`;
 * refusals exit 1 with one line saying why.
 */
import type { Command } from 'commander';

interface Target {
  env: string;
  json?: boolean;
}

interface ActorFlags extends Target {
  as?: string;
  comment?: string;
}

/** What every subcommand loads when it runs (not before: `conveyor --help` stays fast). */
async function load() {
  const [temporal, deployments, control, view, messages] = await Promise.all([
    import('../temporal.js'),
    import('../deployments.js'),
    import('../deploy-control.js'),
    import('../deploy-view.js'),
    import('../../workflows/deployment-messages.js'),
  ]);
  return { ...temporal, ...deployments, ...control, ...view, messages };
}

function print(json: boolean | undefined, value: unknown, text: () => string[] | string): void {
  if (json) console.log(JSON.stringify(value));
  else for (const line of [text()].flat()) console.log(line);
}

/** Registers `conveyor deploy`. */
export function registerDeployCommand(program: Command): void {
  const deploy = program.command('deploy').description('see and steer deployments (rolling, blue-green, canary)');
  const withTarget = (command: Command) =>
    command
      .argument('<service>', 'the service')
      .option('--env <environment>', 'its environment', 'production')
      .option('--json', 'print JSON');
  const withActor = (command: Command) =>
    withTarget(command)
      .option('--as <user>', 'act as this user (default: CONVEYOR_USER, then the OS user)')
      .option('--comment <text>', 'a comment recorded with the decision');

  deploy
    .command('ls')
    .description('list deployments and their state')
    .option('--all', 'include destroyed ones')
    .option('--json', 'print JSON')
    .action(async (flags: { all?: boolean; json?: boolean }) => {
      const { withClient, listDeployments } = await load();
      await withClient(async (client) => {
        const found = await listDeployments(client, flags.all);
        print(flags.json, found, () =>
          found.length === 0
            ? 'no deployments'
            : found.map(
                (item) =>
                  `${item.service.padEnd(24)} ${item.environment.padEnd(14)} ${item.state.padEnd(18)} ${item.running ? '' : '(destroyed)'}`,
              ),
        );
      });
    });

  withTarget(deploy.command('status'))
    .description("a deployment's state, weights, gate, analysis and decisions")
    .action(async (service: string, flags: Target) => {
      const { withClient, fetchDeploymentStatus, describeDeployment } = await load();
      await withClient(async (client) => {
        const status = await fetchDeploymentStatus(client, service, flags.env);
        print(flags.json, status, () => describeDeployment(status));
      });
    });

  withTarget(deploy.command('history'))
    .description('every rollout of a deployment, oldest first')
    .action(async (service: string, flags: Target) => {
      const { withClient, fetchDeploymentStatus, describeResult } = await load();
      await withClient(async (client) => {
        const { history } = await fetchDeploymentStatus(client, service, flags.env);
        print(flags.json, history, () => (history.length === 0 ? 'no rollouts yet' : history.map(describeResult)));
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    withActor(deploy.command(decision))
      .description(decision === 'approve' ? 'approve the open gate' : 'reject the open gate (the rollout rolls back)')
      .option('--gate <name>', 'the gate (default: the one open now)')
      .action(async (service: string, flags: ActorFlags & { gate?: string }) => {
        const { withClient, sendControl, cliUser, messages } = await load();
        const [update, signal] =
          decision === 'approve'
            ? [messages.approveUpdate, messages.approveSignal]
            : [messages.rejectUpdate, messages.rejectSignal];
        await withClient(async (client) => {
          const outcome = await sendControl(client, { service, environment: flags.env }, update, signal, {
            user: cliUser(flags.as),
            comment: flags.comment,
            gate: flags.gate,
            channel: 'cli',
          });
          print(flags.json, outcome, () => outcome.message);
        });
      });
  }

  const controls = [
    ['promote', 'go on to the next step (--full: every remaining step, never past a gate)'],
    ['abort', 'abort the rollout: all traffic back to stable, the new version removed'],
    ['pause', 'hold the rollout after its current step'],
    ['resume', 'continue a held rollout'],
    ['rollback', 'after a rollout: back to the previous version (or --to VERSION)'],
    ['destroy', 'remove the router and every container of the service and end its workflow'],
  ] as const;
  for (const [name, description] of controls) {
    const command = withActor(deploy.command(name)).description(description);
    if (name === 'promote') command.option('--full', 'skip every remaining step up to promotion');
    if (name === 'rollback') command.option('--to <version>', 'a version from the history');
    command.action(async (service: string, flags: ActorFlags & { full?: boolean; to?: string }) => {
      const { withClient, sendControl, cliUser, messages } = await load();
      const pairs = {
        promote: [messages.promoteUpdate, messages.promoteSignal],
        abort: [messages.abortUpdate, messages.abortSignal],
        pause: [messages.pauseUpdate, messages.pauseSignal],
        resume: [messages.resumeUpdate, messages.resumeSignal],
        rollback: [messages.rollbackUpdate, messages.rollbackSignal],
        destroy: [messages.destroyUpdate, messages.destroySignal],
      } as const;
      const [update, signal] = pairs[name];
      await withClient(async (client) => {
        const input = {
          user: cliUser(flags.as),
          comment: flags.comment,
          channel: 'cli',
          full: flags.full,
          to: flags.to,
        };
        const outcome = await sendControl(
          client,
          { service, environment: flags.env },
          update as typeof messages.promoteUpdate,
          signal as typeof messages.promoteSignal,
          input,
        );
        if (name === 'destroy' && outcome.via === 'update') {
          // Done once the workflow has removed everything and ended.
          const { deploymentWorkflowId } = await import('../../deploy/names.js');
          await client.workflow.getHandle(deploymentWorkflowId(service, flags.env)).result();
          outcome.message = `destroyed ${service} in ${flags.env}: its router and containers are gone; its history stays in Temporal`;
        }
        print(flags.json, outcome, () => outcome.message);
      });
    });
  }
}
