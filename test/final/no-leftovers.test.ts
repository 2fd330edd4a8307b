/**
 * Runs last (scripts/test puts it at the end): after every other test, no container, volume or network carrying
 * Conveyor's run label that the suite created is left on the Docker host. `CONVEYOR_TEST_SINCE` (set by
 * scripts/test when the tests start) scopes the check to this suite: the Docker engine may be shared with other
 * checkouts, whose resources are theirs to clean up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { leftoversWithLabel } from '../helpers/temporal';

const since = process.env.CONVEYOR_TEST_SINCE ? new Date(process.env.CONVEYOR_TEST_SINCE) : undefined;

describe('after the whole suite', () => {
  it('leaves no container, volume or network labelled conveyor.run', async () => {
    assert.deepEqual(await leftoversWithLabel('conveyor.run', since), []);
  });
});
