/**
 * `conveyor investigate RUN` and `conveyor incidents ls|show|search|resolve|remediate` (docs/investigations.md). Each
 * prints JSON with `--json`.
 */
import type { Command } from 'commander';
import { CliError } from '../cli-error';

const load = () =>
  Promise.all([import('../temporal.js'), import('../incidents.js'), import('../../workers/stores.js')]);

/** Registers `conveyor investigate` and `conveyor incidents`. */
export function registerIncidentCommands(program: Command): void {
  program
    .command('investigate')
    .description("investigate a run's failure (or a recorded incident) and print its incident id")
    .argument('[run]', 'run id, e.g. run-hello-01j…')
    .option('--incident <id>', 'start the investigation of a recorded incident instead')
    .option('--wait', 'wait for the report and print it')
    .option('--json', 'with --wait, print the incident as JSON')
    .action(async (runId: string | undefined, flags: { incident?: string; wait?: boolean; json?: boolean }) => {
      if (!runId && !flags.incident) throw new CliError('name a run (conveyor investigate RUN) or --incident ID', 2);
      const [{ withClient }, incidents, { createStoreFromConfig }] = await load();
      await withClient(async (client, config) => {
        let id: string;
        if (flags.incident) {
          await incidents.investigateIncident(client, flags.incident);
          id = flags.incident;
        } else {
          id = await incidents.investigateRun(client, config, runId!);
        }
        if (!flags.wait) {
          console.log(flags.json ? JSON.stringify({ id }) : id);
          return;
        }
        await incidents.waitForInvestigation(client, id, (view) => {
          if (!flags.json) process.stderr.write(`${id}: ${view.stage}\n`);
        });
        const report = await incidents.incidentReport(client, createStoreFromConfig(config), id);
        console.log(flags.json ? JSON.stringify(report) : printable(report));
      });
    });

  const incidents = program.command('incidents').description('list, show, search and resolve incidents');
  incidents
    .command('ls')
    .description('list incidents, newest first')
    .option('--open', 'only incidents not resolved yet')
    .option('--pipeline <name>', "only this pipeline's incidents")
    .option('--json', 'print the incidents as JSON')
    .action(async (flags: { open?: boolean; pipeline?: string; json?: boolean }) => {
      await printIncidents(flags, Boolean(flags.json));
    });
  incidents
    .command('search')
    .description('incidents whose title, cause, summary or RCA mention TEXT')
    .argument('<text>', 'what to look for')
    .option('--json', 'print the incidents as JSON')
    .action(async (text: string, flags: { json?: boolean }) => {
      await printIncidents({ text }, Boolean(flags.json));
    });
  incidents
    .command('show')
    .description('show an incident: root cause, hypotheses and its Problem, Plan and RCA reports')
    .argument('<id>', 'incident id, e.g. incident-3f2a…-1')
    .option('-f, --follow', 'follow a running investigation until it reports')
    .option('--json', 'print the incident as JSON')
    .action(async (id: string, flags: { follow?: boolean; json?: boolean }) => {
      const [{ withClient }, incidentsModule, { createStoreFromConfig }] = await load();
      await withClient(async (client, config) => {
        if (flags.follow) {
          await incidentsModule.waitForInvestigation(client, id, (view) => {
            if (flags.json) return;
            const verdicts = view.hypotheses.map((hypothesis) => `${hypothesis.cause}:${hypothesis.verdict}`).join(' ');
            console.log(`${view.stage}${verdicts ? `  ${verdicts}` : ''}`);
          });
        }
        const report = await incidentsModule.incidentReport(client, createStoreFromConfig(config), id);
        console.log(flags.json ? JSON.stringify(report) : printable(report));
      });
    });
  incidents
    .command('resolve')
    .description('confirm or correct the root cause and close the incident')
    .argument('<id>', 'incident id')
    .requiredOption('--cause <cause>', 'the root cause (oom, timeout, image_not_found, …, script_error)')
    .option('--note <text>', 'what was found')
    .option('--json', 'print the resolved incident as JSON')
    .action(async (id: string, flags: { cause: string; note?: string; json?: boolean }) => {
      const [{ withClient }, { resolveIncident }] = await load();
      const { userInfo } = await import('node:os');
      await withClient(async (client) => {
        const view = await resolveIncident(client, id, {
          cause: flags.cause,
          note: flags.note,
          by: userInfo().username,
        });
        console.log(flags.json ? JSON.stringify(view) : `${id} resolved: ${flags.cause}`);
      });
    });
  incidents
    .command('remediate')
    .description('approve or reject the remediation an incident waits on (policy approve), like a deployment gate')
    .argument('<id>', 'incident id')
    .option('--approve', 'take the action (a re-run of the failed jobs, or with more memory)')
    .option('--reject', 'do not take it')
    .option('--reason <text>', 'why, recorded with the decision')
    .option('--as <user>', 'decide as this user (default: CONVEYOR_USER, then the OS user)')
    .option('--json', 'print the decision as JSON')
    .action(
      async (
        id: string,
        flags: { approve?: boolean; reject?: boolean; reason?: string; as?: string; json?: boolean },
      ) => {
        if (Boolean(flags.approve) === Boolean(flags.reject)) {
          throw new CliError(`incidents remediate ${id}: give exactly one of --approve or --reject`, 2);
        }
        const [{ withClient }, { decideRemediation }] = await load();
        const { cliUser } = await import('../deploy-control.js');
        await withClient(async (client) => {
          const outcome = await decideRemediation(client, id, {
            approve: Boolean(flags.approve),
            by: cliUser(flags.as),
            ...(flags.reason !== undefined && { comment: flags.reason }),
          });
          const reason = outcome.reason ? `: ${outcome.reason}` : '';
          console.log(
            flags.json
              ? JSON.stringify(outcome)
              : outcome.via === 'signal'
                ? `${id}: ${outcome.decision} by ${outcome.by}${reason}; ${outcome.message}`
                : `${id}: ${outcome.action} for ${outcome.cause} ${outcome.decision} by ${outcome.by}${reason}`,
          );
        });
      },
    );
}

/** Prints the incidents of the index that pass `filters`, one line each or as JSON. */
async function printIncidents(filters: { open?: boolean; pipeline?: string; text?: string }, json: boolean) {
  const [, { listIncidents, incidentLine }, { createStoreFromConfig }] = await load();
  const { loadConfig } = await import('../../workers/config.js');
  const rows = await listIncidents(createStoreFromConfig(loadConfig()), filters);
  if (json) return console.log(JSON.stringify(rows));
  if (rows.length === 0) console.log('no incidents match');
  for (const row of rows) console.log(incidentLine(row));
}

/** The incident for a terminal: a header, then the RCA, Problem and Plan reports. */
function printable(report: Awaited<ReturnType<Awaited<ReturnType<typeof load>>[1]['incidentReport']>>): string {
  const root = report.rootCause;
  const header = [
    `${report.id}  ${report.status}  ×${report.count}  ${report.title}`,
    root
      ? `root cause: ${root.cause} (confidence ${root.confidence.toFixed(2)}) — ${root.summary}`
      : 'not investigated yet',
  ];
  return [...header, '', report.reports.rca ?? '', report.reports.problem ?? '', report.reports.plan ?? '']
    .join('\n')
    .trimEnd();
}
