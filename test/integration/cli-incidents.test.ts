/**
 * The incident commands against the real stack (docs/investigations.md): a failed `conveyor run` names its
 * incident; `conveyor investigate RUN --wait --json` prints the investigated incident with its reports; the index
 * lists and searches it; `incidents resolve` confirms the cause and closes it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { conveyor } from '../helpers/cli';

const dir = mkdtempSync(path.join(tmpdir(), 'conveyor-incidents-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('conveyor investigate and conveyor incidents', () => {
  it('investigates a failed run, shows, lists, searches and resolves its incident', async () => {
    const tag = randomUUID().slice(0, 8);
    const pipelineName = `inv-cli-${tag}`;
    const file = path.join(dir, 'pipeline.yml');
    writeFileSync(
      file,
      `name: ${pipelineName}\njobs:\n  build:\n    image: conveyor/busybox:latest\n    steps:\n      - name: compile\n        script: ["mkae-${tag} all"]\n`,
    );
    const run = await conveyor(['run', file, '--json'], { timeoutMs: 240_000 });
    assert.equal(run.code, 1, run.stderr);
    const incidentId = /conveyor incidents show (incident-[0-9a-f]{16}-\d+) -f/.exec(run.stderr)?.[1];
    assert.ok(incidentId, run.stderr);
    const { runId } = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { runId: string };

    const investigated = await conveyor(['investigate', runId, '--wait', '--json'], { timeoutMs: 240_000 });
    assert.equal(investigated.code, 0, investigated.stderr);
    const incident = JSON.parse(investigated.stdout) as {
      id: string;
      status: string;
      subject: { run?: string };
      rootCause: { cause: string; confidence: number; job: string; step: string };
      hypotheses: { cause: string; rank: number; verdict: string; evidence: string[] }[];
      reports: { problem: string; plan: string; rca: string };
    };
    assert.equal(incident.id, incidentId, 'the run’s automatic incident is reused');
    assert.equal(incident.subject.run, runId);
    assert.deepEqual(
      [incident.rootCause.cause, incident.rootCause.job, incident.rootCause.step],
      ['command_not_found', 'build', 'compile'],
    );
    assert.equal(incident.hypotheses[0]?.verdict, 'pass');
    assert.match(incident.reports.rca, new RegExp(`mkae-${tag}: not found`));
    assert.match(incident.reports.problem, /^# Problem: /);
    assert.match(incident.reports.plan, /^# Plan: /);

    const status = await conveyor(['status', runId]);
    assert.match(status.stdout, new RegExp(`incident ${incidentId}: command_not_found \\(confidence 0\\.\\d+\\)`));

    const listed = await conveyor(['incidents', 'ls', '--open', '--pipeline', pipelineName, '--json']);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { id: string }[]).map((row) => row.id),
      [incidentId],
    );
    const found = await conveyor(['incidents', 'search', `mkae-${tag}`, '--json']);
    assert.deepEqual(
      (JSON.parse(found.stdout) as { id: string }[]).map((row) => row.id),
      [incidentId],
    );

    const wrong = await conveyor(['incidents', 'resolve', incidentId, '--cause', 'gremlins']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /unknown cause 'gremlins' \(known: oom, /);
    const resolved = await conveyor([
      'incidents',
      'resolve',
      incidentId,
      '--cause',
      'command_not_found',
      '--note',
      'typo',
    ]);
    assert.equal(resolved.code, 0, resolved.stderr);
    const shown = await conveyor(['incidents', 'show', incidentId, '--json']);
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, 'resolved');
    const open = await conveyor(['incidents', 'ls', '--open', '--pipeline', pipelineName, '--json']);
    assert.deepEqual(JSON.parse(open.stdout), []);
  });
});
