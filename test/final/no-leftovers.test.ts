/**
 * Runs last (scripts/test puts it at the end): after every other test, no container, volume or network carrying
 * Conveyor's run label is left on the Docker host.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leftoversWithLabel } from '../helpers/temporal';

describe('after the whole suite', () => {
  it('leaves no container, volume or network labelled conveyor.run', async () => {
    assert.deepEqual(await leftoversWithLabel('conveyor.run'), []);
  });
});
