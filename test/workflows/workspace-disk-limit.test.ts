/**
 * `resources.disk` (docs/runs.md, "Limits"): a job's workspace is a size-limited filesystem that persists from step
 * to step; a step writing past the limit fails with reason `disk_full`, and the volume, its loop device and its
 * image file are gone when the run ends.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { workspaceVolumeName } from '../../activities/names';
import { diskImageDir } from '../../activities/workspace-disk';
import { job, pipeline, step } from '../helpers/models';
import { jobModes, runPipeline } from '../helpers/runs';
import { closeTestEnvironment, leftoversOf, logs } from '../helpers/temporal';

after(closeTestEnvironment);

const limited = { memoryBytes: 256 * 1024 ** 2, cpus: 1, diskBytes: 16 * 1024 ** 2 };

/** Image files and loop devices left for a run (the image file names start with the workspace volume's). */
function diskLeftovers(runId: string, job = 'fill'): string[] {
  const slug = workspaceVolumeName(runId, job);
  const dir = diskImageDir();
  const files = existsSync(dir) ? readdirSync(dir).filter((name) => name.includes(slug)) : [];
  const loops = execFileSync('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(slug));
  return [...files.map((file) => `image ${file}`), ...loops.map((line) => `loop ${line.trim()}`)];
}

for (const { mode, runOptions } of jobModes) {
  describe(`a size-limited workspace (${mode})`, () => {
    it('keeps files between steps, fails the step that writes past the limit as disk_full, and leaves nothing', async () => {
      const { runId, status } = await runPipeline(
        pipeline('disk-limit', [
          job(
            'fill',
            [
              step('write', ['echo kept > /workspace/note', 'df -k /workspace | tail -1']),
              // dd's complaint is hidden: the workspace's own fill level tells disk_full, not the message.
              step('overflow', ['cat /workspace/note', 'dd if=/dev/zero of=/workspace/big bs=1M count=64 2>/dev/null']),
              step('never', ['true']),
            ],
            { resources: limited },
          ),
          job('roomy', [step('write', ['dd if=/dev/zero of=/workspace/big bs=1M count=24 2>/dev/null', 'echo ok'])]),
        ]),
        { runOptions },
      );
      assert.equal(status.jobs.fill?.status, 'failed');
      assert.equal(status.jobs.fill?.reason, 'disk_full', status.jobs.fill?.message);
      assert.equal(status.jobs.fill?.failedStep, 'overflow');
      assert.equal(status.jobs.roomy?.status, 'success', 'a job without resources.disk is not limited');
      const { records } = await logs.read(runId);
      const lines = records.filter((record) => record.job === 'fill').map((record) => `${record.step}: ${record.line}`);
      assert.ok(lines.includes('overflow: kept'), lines.join('\n'));
      const size = Number(lines.find((line) => line.startsWith('write: '))?.split(/\s+/)[2]);
      assert.ok(size > 0 && size <= 16 * 1024, `df shows a filesystem of at most 16 MiB (${size} KiB)`);
      assert.deepEqual(await leftoversOf(runId), []);
      assert.deepEqual(diskLeftovers(runId), []);
    });

    it('limits a workspace that downloaded artifacts created before the first step', async () => {
      const { runId, status } = await runPipeline(
        pipeline('disk-limit-artifacts', [
          // Its upload reads the note from a size-limited workspace too.
          job('make', [step('write', ['echo handed-over > note.txt'])], {
            artifacts: [{ name: 'note', paths: ['note.txt'], when: 'on_success' }],
            resources: limited,
          }),
          job(
            'fill',
            [step('read', ['cat note.txt', 'df -k /workspace | tail -1', 'dd if=/dev/zero of=big bs=1M count=64'])],
            { dependsOn: ['make'], resources: limited },
          ),
        ]),
        { runOptions },
      );
      assert.equal(status.jobs.make?.status, 'success', status.jobs.make?.message);
      assert.equal(status.jobs.fill?.reason, 'disk_full', status.jobs.fill?.message);
      const { records } = await logs.read(runId);
      const lines = records.filter((record) => record.job === 'fill').map((record) => record.line);
      assert.equal(lines[0], 'handed-over', lines.join('\n'));
      const size = Number(lines[1]?.split(/\s+/)[1]);
      assert.ok(size > 0 && size <= 16 * 1024, `df shows a filesystem of at most 16 MiB (${lines[1]})`);
      assert.deepEqual(await leftoversOf(runId), []);
      assert.deepEqual([...diskLeftovers(runId), ...diskLeftovers(runId, 'make')], []);
    });
  });
}
