/**
 * `conveyor token create USER | list | revoke ID`: API tokens for the HTTP API and the web view. A token is shown
 * once, when it is made; `conveyor.config.yml` keeps only its SHA-256 digest (docs/control-plane.md).
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { ConveyorConfig } from '../../workers/config';
import { CliError } from '../cli-error';

/** Loaded when a token command runs, not at start-up, so `conveyor --help` stays fast (docs/runs.md#start-up). */
const load = async () => {
  const [tokens, { loadConfig }] = await Promise.all([
    import('../../config/access-tokens.js'),
    import('../../workers/config.js'),
  ]);
  return { ...tokens, config: loadConfig() };
};

/** The file tokens are written to: the configuration file in use, else a new one in the data dir. */
function tokenFile(config: ConveyorConfig): string {
  return config.configFile ?? path.join(config.dataDir, 'conveyor.config.yml');
}

function asCliError(error: unknown, tokenConfigError: new (...args: never[]) => Error): never {
  if (error instanceof tokenConfigError) throw new CliError(error.message);
  throw error;
}

/** Registers `conveyor token`. */
export function registerTokenCommand(program: Command): void {
  const token = program.command('token').description('API tokens for the HTTP API and the web view');
  token
    .command('create')
    .description('make a token for USER (defined under access.users) and show it once')
    .argument('<user>', 'the user the token acts as')
    .option('--description <text>', 'what the token is for, e.g. "laptop" or "ci"')
    .option('--json', 'print {id, user, token, file} as JSON')
    .action(async (user: string, flags: { description?: string; json?: boolean }) => {
      const { config, createTokenInFile, TokenConfigError } = await load();
      const file = tokenFile(config);
      let created: { token: string; id: string };
      try {
        created = createTokenInFile(file, user, flags.description);
      } catch (error) {
        asCliError(error, TokenConfigError);
      }
      if (flags.json) {
        console.log(JSON.stringify({ id: created.id, user, token: created.token, file }));
        return;
      }
      console.log(`Token ${created.id} for ${user} (shown only now; store it somewhere safe):\n`);
      console.log(`  ${created.token}\n`);
      console.log(`Its SHA-256 digest is in ${file}; revoke it with 'conveyor token revoke ${created.id}'.`);
      console.log(`Use it as "Authorization: Bearer <token>", or paste it on the web view's sign-in page.`);
    });
  token
    .command('list')
    .description('list tokens (ids, users, dates; never the tokens)')
    .option('--json', 'print the tokens as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { config } = await load();
      const tokens = config.file.access?.tokens ?? [];
      const rows = tokens.map(({ id, user, created, description }) => ({ id, user, created, description }));
      if (flags.json) {
        console.log(JSON.stringify(rows));
        return;
      }
      if (rows.length === 0) console.log('no tokens (make one with conveyor token create USER)');
      for (const row of rows) {
        console.log(`${row.id}  ${row.user}  ${row.created ?? ''}  ${row.description ?? ''}`.trimEnd());
      }
    });
  token
    .command('revoke')
    .description('remove a token; requests with it are refused from then on')
    .argument('<id>', 'the token id (tok_…), as token list shows it')
    .action(async (id: string) => {
      const { config, revokeTokenInFile, TokenConfigError } = await load();
      try {
        const user = revokeTokenInFile(tokenFile(config), id);
        console.log(`revoked ${id} of ${user}`);
      } catch (error) {
        asCliError(error, TokenConfigError);
      }
    });
}
