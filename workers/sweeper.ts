/**
 * The sweeper: at worker start, removes containers, volumes and networks whose run is closed (finished, failed,
 * cancelled, terminated or unknown to the server), so a crash never leaks Docker resources for long. It only looks
 * at resources labelled with its own cluster (`conveyor.cluster`): a run unknown to this server may belong to
 * another Conveyor installation sharing the Docker engine.
 */
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { removeByLabel } from '../activities/docker-resources';
import { labels } from '../activities/names';

/** Removes leftovers of this cluster's closed runs; returns how many runs were swept. */
export async function sweepClosedRuns({
  docker,
  client,
  cluster,
}: {
  docker: Docker;
  client: Client;
  /** This worker's cluster label value (see `clusterLabel`). */
  cluster: string;
}): Promise<{ runs: number }> {
  const filters = { label: [labels.run, `${labels.cluster}=${cluster}`] };
  const runIds = new Set<string>();
  for (const container of await docker.listContainers({ all: true, filters })) {
    const run = container.Labels[labels.run];
    if (run) runIds.add(run);
  }
  for (const volume of (await docker.listVolumes({ filters })).Volumes ?? []) {
    const run = volume.Labels?.[labels.run];
    if (run) runIds.add(run);
  }
  for (const network of await docker.listNetworks({ filters })) {
    const run = network.Labels?.[labels.run];
    if (run) runIds.add(run);
  }
  let runs = 0;
  for (const runId of runIds) {
    if (await isRunOpen(client, runId)) continue;
    await removeByLabel(docker, `${labels.run}=${runId}`);
    runs += 1;
  }
  return { runs };
}

async function isRunOpen(client: Client, runId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(runId).describe();
    return description.status.name === 'RUNNING';
  } catch (error) {
    if ((error as Error).name === 'WorkflowNotFoundError') return false;
    // When the server cannot say, keep the resources: removing a live run's container would break it.
    return true;
  }
}
