/**
 * Watches deployments for the pages' event streams (docs/control-plane.md): one status query every interval per
 * deployment, shared by every open page of it; the timer stops when the last page goes away.
 */
import type { Client } from '@temporalio/client';
import type { DeploymentStatus } from '../workflows/deployment-messages';
import { deploymentStatus } from './deployment-control';

type Listener = (status: DeploymentStatus) => void;

interface Watch {
  listeners: Set<Listener>;
  timer?: NodeJS.Timeout;
  last?: DeploymentStatus;
}

/** Shared watches of deployments' status. */
export class DeploymentWatcher {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly client: Client,
    private readonly intervalMs = 2000,
  ) {}

  /** Calls `listener` with each status read (the latest one at once if known); returns the unsubscribe. */
  watch(service: string, environment: string, listener: Listener): () => void {
    const key = `${service}/${environment}`;
    let watch = this.watches.get(key);
    if (!watch) {
      const created: Watch = { listeners: new Set() };
      this.watches.set(key, created);
      const tick = async () => {
        try {
          created.last = await deploymentStatus(this.client, service, environment);
          for (const each of created.listeners) each(created.last);
        } catch {
          // the workflow is between runs or Temporal blips: try again on the next tick
        }
        if (created.listeners.size > 0) created.timer = setTimeout(() => void tick(), this.intervalMs);
      };
      created.timer = setTimeout(() => void tick(), 0);
      watch = created;
    } else if (watch.last) {
      listener(watch.last);
    }
    watch.listeners.add(listener);
    const shared = watch;
    return () => {
      shared.listeners.delete(listener);
      if (shared.listeners.size === 0) {
        clearTimeout(shared.timer);
        if (this.watches.get(key) === shared) this.watches.delete(key);
      }
    };
  }

  /** How many deployments are being watched (for tests). */
  get size(): number {
    return this.watches.size;
  }
}
