/** Job workspaces on the real Docker engine for artifact tests: create one, run a script in it, remove them. */
import { PassThrough } from 'node:stream';
import { ensureWorkspace, removeByLabel } from '../../activities/docker-resources';
import { labels } from '../../activities/names';
import type { WorkspaceRef } from '../../activities/artifacts/workspace-io';
import { workspaceVolumeName } from '../../activities/names';
import { docker } from './temporal';

/** Creates a job's workspace volume (owned by the step user, as a job's first step would). */
export async function createWorkspace(ref: WorkspaceRef): Promise<void> {
  await ensureWorkspace(docker, ref);
}

/** Runs `script` (sh -ec) as the step user in a throwaway container mounting the workspace; returns its output. */
export async function runInWorkspace(
  ref: WorkspaceRef,
  script: string,
  user = '1000:1000',
): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer({
    Image: 'conveyor/busybox:latest',
    Cmd: ['/bin/sh', '-ec', script],
    User: user,
    WorkingDir: '/workspace',
    Labels: { [labels.run]: ref.runId },
    HostConfig: {
      NetworkMode: 'none',
      Mounts: [
        { Type: 'volume', Source: workspaceVolumeName(ref.runId, ref.job, ref.jobAttempt), Target: '/workspace' },
      ],
    },
  });
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = new PassThrough();
    let output = '';
    out.on('data', (chunk: Buffer) => (output += chunk.toString()));
    container.modem.demuxStream(stream, out, out);
    const ended = new Promise((resolve) => stream.once('end', resolve));
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    await ended;
    return { exitCode: StatusCode, output };
  } finally {
    await container.remove({ force: true });
  }
}

/** Removes everything labelled with the run (workspaces, helper containers). */
export async function removeRunResources(runId: string): Promise<void> {
  await removeByLabel(docker, `${labels.run}=${runId}`);
}
