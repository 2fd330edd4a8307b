/**
 * The identity of the Temporal cluster and namespace a worker serves, written on every Docker resource it creates
 * (`conveyor.cluster`). Several Conveyor installations may share one Docker engine; each sweeper removes only
 * resources labelled with its own identity, because a run it does not know may belong to another installation.
 */
import type { WorkflowService } from '@temporalio/client';

/** `<cluster id>/<namespace>`: stable across restarts of the same server (the id is kept in its database). */
export async function clusterLabel(
  service: Pick<WorkflowService, 'getClusterInfo'>,
  namespace: string,
): Promise<string> {
  const info = await service.getClusterInfo({});
  return `${info.clusterId ?? 'unknown'}/${namespace}`;
}
