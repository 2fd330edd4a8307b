/**
 * Writes docs/pipeline.schema.json from the zod pipeline schema. Run after changing pipeline/schema.ts:
 * `npx tsx scripts/generate-schema.ts`. A unit test fails while the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineJsonSchemaPath, renderPipelineJsonSchema } from '../pipeline/json-schema';

const target = join(__dirname, '..', pipelineJsonSchemaPath);
writeFileSync(target, renderPipelineJsonSchema());
process.stdout.write(`wrote ${pipelineJsonSchemaPath}\n`);
