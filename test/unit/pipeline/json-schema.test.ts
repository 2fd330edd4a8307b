import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pipelineJsonSchema, pipelineJsonSchemaPath, renderPipelineJsonSchema } from '../../../pipeline/json-schema';

test('the committed docs/pipeline.schema.json is what the generator produces from the zod schema now', () => {
  const committed = readFileSync(join(__dirname, '..', '..', '..', pipelineJsonSchemaPath), 'utf8');
  assert.equal(committed, renderPipelineJsonSchema(), 'stale: run npx tsx scripts/generate-schema.ts');
});

test('the JSON Schema describes jobs, steps and their constraints for editors', () => {
  const schema = pipelineJsonSchema() as {
    required: string[];
    properties: {
      jobs: {
        propertyNames: { pattern: string };
        additionalProperties: { properties: Record<string, unknown>; required?: string[] };
      };
    };
  };
  assert.deepEqual(schema.required.sort(), ['jobs', 'name']);
  assert.equal(schema.properties.jobs.propertyNames.pattern, '^[a-zA-Z][a-zA-Z0-9_-]*$');
  const job = schema.properties.jobs.additionalProperties;
  // A job has steps: or deploy: (checked by the language module; JSON Schema lists both as optional).
  assert.equal(job.required, undefined);
  assert.ok('steps' in job.properties && 'deploy' in job.properties);
  assert.ok('depends_on' in job.properties && 'needs' in job.properties && 'matrix' in job.properties);
});
