/** Reading a Docker volume's labels, where workspaces record what kind of volume they are (docs/triggers.md, "Overlay workspaces"). */
import type Docker from 'dockerode';
import { isDockerNotFound } from './docker-errors';

/** A volume's labels (`{}` when it has none), `undefined` when there is no such volume; other engine errors throw. */
export async function volumeLabels(docker: Docker, name: string): Promise<Record<string, string> | undefined> {
  try {
    const info = (await docker.getVolume(name).inspect()) as { Labels?: Record<string, string> | null };
    return info.Labels ?? {};
  } catch (error) {
    if (isDockerNotFound(error)) return undefined;
    throw error;
  }
}
