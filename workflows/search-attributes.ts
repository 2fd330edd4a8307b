/**
 * Conveyor's typed search attributes, registered with the dev server by `conveyor dev up` and set by workflows so
 * the Temporal UI and `conveyor list` can filter runs (DESIGN.md §5 Visibility).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The pipeline's name. */
export const pipelineKey = defineSearchAttributeKey('ConveyorPipeline', SearchAttributeType.KEYWORD);
/** The run's status: running, success, failed, cancelled. */
export const statusKey = defineSearchAttributeKey('ConveyorStatus', SearchAttributeType.KEYWORD);
/** What started the run: `cli`, `rerun`, a ref such as `refs/heads/main`. */
export const triggerKey = defineSearchAttributeKey('ConveyorTrigger', SearchAttributeType.KEYWORD);

/** The full commit SHA the run builds (docs/triggers.md). */
export const commitKey = defineSearchAttributeKey('ConveyorCommit', SearchAttributeType.KEYWORD);
/** The branch the run builds (for a pull request: its head branch). */
export const branchKey = defineSearchAttributeKey('ConveyorBranch', SearchAttributeType.KEYWORD);
/** A deployment's service (deployment workflows). */
export const serviceKey = defineSearchAttributeKey('ConveyorService', SearchAttributeType.KEYWORD);
/** A deployment's environment. */
export const environmentKey = defineSearchAttributeKey('ConveyorEnvironment', SearchAttributeType.KEYWORD);
/** A deployment's state: pending, preparing, deploying, …, complete, rolled_back (DESIGN.md §7). */
export const deployStateKey = defineSearchAttributeKey('ConveyorDeployState', SearchAttributeType.KEYWORD);

/** An incident's fingerprint (investigation workflows, docs/investigations.md): same failure, same value. */
export const fingerprintKey = defineSearchAttributeKey('ConveyorFingerprint', SearchAttributeType.KEYWORD);
/** An incident's state: open, investigating, investigated, resolved. */
export const incidentStatusKey = defineSearchAttributeKey('ConveyorIncidentStatus', SearchAttributeType.KEYWORD);

/** Server type names of the search attribute types Conveyor uses. */
export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Datetime';

/**
 * Every Conveyor search attribute with its server type name, for registration: `conveyor dev up` registers the
 * missing ones on every start, so adding a key here is all a new attribute needs.
 */
export const conveyorSearchAttributes: { name: string; type: SearchAttributeTypeName }[] = [
  pipelineKey,
  statusKey,
  triggerKey,
  commitKey,
  branchKey,
  serviceKey,
  environmentKey,
  deployStateKey,
  fingerprintKey,
  incidentStatusKey,
].map((key) => ({ name: key.name, type: 'Keyword' }));
