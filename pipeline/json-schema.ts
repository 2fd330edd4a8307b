import { z } from 'zod';
import { pipelineSchema } from './schema';

/** Where the generated schema is published in the repository (editors can point `yaml.schemas` at it). */
export const pipelineJsonSchemaPath = 'docs/pipeline.schema.json';

/**
 * The JSON Schema (draft 2020-12) of a pipeline file, generated from the zod schema that validates it, so editors
 * complete and check pipeline files with the same rules. Top-level `x-` keys are allowed for YAML anchors.
 */
export function pipelineJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(pipelineSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    ...generated,
    $id: 'https://conveyor.dev/schemas/pipeline.schema.json',
    patternProperties: { '^x-': {} },
  };
}

/** The schema as the committed file holds it: two-space JSON and a final newline. */
export function renderPipelineJsonSchema(): string {
  return `${JSON.stringify(pipelineJsonSchema(), null, 2)}\n`;
}
