/**
 * `conveyor.config.yml`: the settings that are not environment variables — identities and roles, retention
 * policies, webhook secrets, alert rules, cluster connection — one file shared by the worker, the CLI and the server.
 *
 * Each area owns one top-level section with its own zod schema in its own module; this file only composes them,
 * finds the file and reports problems the way pipeline files do (`FILE:LINE:COL  code  message`, every problem at
 * once). An absent file is an empty configuration: every section has defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DiagnosticCollector } from '../pipeline/diagnostics';
import type { Diagnostic } from '../pipeline/model';
import { reportSchemaIssues } from '../pipeline/schema-issues';
import { readYaml } from '../pipeline/yaml-source';
import { artifactsConfigSchema, retentionPoliciesConfigSchema } from './artifacts-config';
import { accessSchema } from './access';
import { providersSchema } from './providers';
import { registriesSchema } from './registries';
import { investigationsSchema } from './investigations';
import { slackSchema } from './slack';
import { temporalSectionSchema } from './temporal-connection';

/**
 * The whole file. People live in one place only: `access:` (config/access.ts) holds users, their groups, Slack ids,
 * roles and API tokens, and everything that names a person or a group — approval gates' `approvers: [alice,
 * group:release]`, notifications — reads them from there; no other section defines users or groups.
 *
 * Sections are optional and strict (an unknown key is an error with a did-you-mean), so a typo
 * never silently loses a setting. Areas add their section here, defined in their own module.
 */
export const configFileSchema = z
  .strictObject({
    version: z.literal(1).optional().meta({ description: 'Format version of this file (1).' }),
    artifacts: artifactsConfigSchema.optional(),
    retention_policies: retentionPoliciesConfigSchema.optional(),
    access: accessSchema.optional(),
    slack: slackSchema.optional(),
    temporal: temporalSectionSchema.optional(),
    providers: providersSchema.optional(),
    investigations: investigationsSchema.optional(),
    registries: registriesSchema.optional(),
  })
  .meta({ title: 'Conveyor configuration', description: 'conveyor.config.yml' });

/** The configuration file as validated. */
export type ConfigFile = z.output<typeof configFileSchema>;

/** A configuration file that could not be used: every problem, located. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly diagnostics: Diagnostic[],
  ) {
    super(
      diagnostics
        .map((d) => `${file}:${d.line}:${d.column}  ${d.code}  ${d.message}${d.hint ? ` (${d.hint})` : ''}`)
        .join('\n'),
    );
    this.name = 'ConfigFileError';
  }
}

/**
 * Where the configuration file is: `CONVEYOR_CONFIG` when set (it must exist), else `conveyor.config.yml` in the
 * data dir, else in the project root; `undefined` when there is none.
 */
export function findConfigFile(env: NodeJS.ProcessEnv, dataDir: string, projectRoot: string): string | undefined {
  if (env.CONVEYOR_CONFIG) return path.resolve(env.CONVEYOR_CONFIG);
  return [path.join(dataDir, 'conveyor.config.yml'), path.join(projectRoot, 'conveyor.config.yml')].find((candidate) =>
    existsSync(candidate),
  );
}

/** Parses configuration text; throws a ConfigFileError listing every problem. */
export function parseConfigFile(source: string, file: string): ConfigFile {
  const yaml = readYaml(source);
  const collector = new DiagnosticCollector(yaml.locator);
  for (const error of yaml.errors) collector.located(error);
  if (collector.errorCount === 0) {
    const value = yaml.value ?? {};
    const parsed = configFileSchema.safeParse(value);
    if (parsed.success) return parsed.data;
    reportSchemaIssues(parsed.error.issues, { prefix: [], input: value, schema: configFileSchema }, collector);
  }
  throw new ConfigFileError(file, collector.errors());
}

/** Reads and validates the configuration file at `file`; an absent `file` gives the defaults. */
export function readConfigFile(file: string | undefined): ConfigFile {
  if (!file) return configFileSchema.parse({});
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigFileError(file, [
      {
        code: 'unreadable',
        message: code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? 'unknown error'})`,
        line: 1,
        column: 1,
        path: '',
        hint: 'create the file, or unset CONVEYOR_CONFIG to run without one',
      },
    ]);
  }
  return parseConfigFile(source, file);
}
