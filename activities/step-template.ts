/**
 * Finishing a step's templates when its container is about to start: run-time variables (`${CONVEYOR_RUN_ID}`,
 * …) everywhere, and `${secrets.NAME}` only in environment values — the one place secrets may go (DESIGN.md §4).
 * This is the single point where templates become final text, so `$${` escapes are undone exactly once.
 */
import { resolveRunTimeVariables, secretReferences } from '../pipeline/run-time-variables';
import { PipelineConfigError } from './errors';
import type { SecretStore } from './secrets';

/** A step's templates, as the workflow passes them. */
export interface StepTemplate {
  image: string;
  script: string[];
  environment: Record<string, string>;
  workingDirectory: string;
  /** Run-time system variables (`CONVEYOR_RUN_ID`, `CONVEYOR_JOB`, …). */
  system: Record<string, string>;
}

/** The final text of a step, plus the secret values it holds (to be masked in output). */
export interface ResolvedStep {
  image: string;
  script: string[];
  environment: Record<string, string>;
  workingDirectory: string;
  secretValues: string[];
}

/** A step names a secret the worker does not have; retrying cannot help. */
export class SecretNotFoundError extends PipelineConfigError {}

/** Resolves a step's templates; throws a PipelineConfigError naming the field for anything left unresolved. */
export function resolveStepTemplate(template: StepTemplate, secrets: SecretStore): ResolvedStep {
  const system = template.system;
  const plain = (text: string, where: string): string => {
    const { text: resolved, missing } = resolveRunTimeVariables(text, { system });
    if (missing.length > 0) {
      const secretsUsed = missing.some((reference) => reference.startsWith('${secrets.'));
      throw new PipelineConfigError(
        secretsUsed
          ? `${where}: secrets may only be used in environment values (${missing.join(', ')}); ` +
              'put the secret in the step environment and refer to the variable instead'
          : `${where}: no value for ${missing.join(', ')}`,
        { where, missing },
      );
    }
    return resolved;
  };
  const secretValues: string[] = [];
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(template.environment)) {
    const names = secretReferences(value);
    const values: Record<string, string> = {};
    for (const name of names) {
      const secret = secrets.get(name);
      if (secret === undefined) {
        throw new SecretNotFoundError(
          `environment ${key}: secret '${name}' is not set on the worker; set CONVEYOR_SECRET_${name} in the ` +
            "worker's environment or add it to the data dir's secrets.json",
          { secret: name },
        );
      }
      values[name] = secret;
      secretValues.push(secret);
    }
    const { text, missing } = resolveRunTimeVariables(value, { system, secrets: values });
    if (missing.length > 0) {
      throw new PipelineConfigError(`environment ${key}: no value for ${missing.join(', ')}`, { missing });
    }
    environment[key] = text;
  }
  return {
    image: plain(template.image, 'image'),
    script: template.script.map((line, index) => plain(line, `script[${index}]`)),
    environment,
    workingDirectory: plain(template.workingDirectory, 'working_directory'),
    secretValues,
  };
}
