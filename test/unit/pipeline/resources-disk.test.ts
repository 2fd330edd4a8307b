/** `resources.disk` in a pipeline file: a size, in range, into the job's model (docs/pipeline-syntax.md). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parsePipeline } from '../../../pipeline/parse-pipeline';

const withDisk = (disk: string) =>
  `name: p\njobs:\n  build:\n    resources: { disk: ${disk} }\n    steps: [{ name: a, script: "true" }]\n`;

it('reads resources.disk as bytes, leaves it out when absent, and rejects sizes out of range with a hint', () => {
  const result = parsePipeline(withDisk('"100Mi"'));
  assert.ok(result.valid);
  assert.equal(result.pipeline.jobs[0]!.resources.diskBytes, 100 * 1024 ** 2);
  const plain = parsePipeline('name: p\njobs:\n  build:\n    steps: [{ name: a, script: "true" }]\n');
  assert.ok(plain.valid);
  assert.equal('diskBytes' in plain.pipeline.jobs[0]!.resources, false);
  for (const bad of ['"1k"', '"lots"']) {
    const wrong = parsePipeline(withDisk(bad));
    assert.equal(wrong.valid, false, bad);
    assert.match(wrong.errors[0]!.message, /is not a workspace size between 8 MiB and 1024 GiB/);
  }
});
