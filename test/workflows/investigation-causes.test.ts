/**
 * The failure suite (docs/investigations.md): real failing pipelines on the dev server and Docker, one scenario per
 * cause; each failed run opens an incident whose investigation ranks the right cause first, quotes the decisive
 * fact, and stores Problem.md, Plan.md and RCA.md.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { JobModel, PipelineModel } from '../../pipeline/model';
import { withInvestigations, type InvestigationBench } from '../helpers/incidents';
import { job, pipeline, step } from '../helpers/models';
import { closeTestEnvironment } from '../helpers/temporal';

after(closeTestEnvironment);

/** A pipeline name no other test run uses, so "the last green run" is this test's. */
function unique(name: string): string {
  return `inv-${name}-${randomUUID().slice(0, 8)}`;
}

/** Runs a failing pipeline and returns its investigated incident and the three documents. */
async function investigateFailure(bench: InvestigationBench, model: PipelineModel, vars?: Record<string, string>) {
  const { status } = await bench.run(model, vars);
  assert.equal(status.status, 'failed');
  assert.ok(status.incident, 'the failed run names its incident');
  assert.match(status.incident, /^incident-[0-9a-f]{16}-\d+$/);
  const incident = await bench.investigated(status.incident);
  const documents = {
    problem: await bench.document(incident.reports.problem),
    plan: await bench.document(incident.reports.plan),
    rca: await bench.document(incident.reports.rca),
  };
  return { incident, documents };
}

/** Asserts the top-ranked cause and that the decisive fact is quoted in its evidence and in RCA.md. */
function assertCause(result: Awaited<ReturnType<typeof investigateFailure>>, cause: string, fact: RegExp): void {
  const { incident, documents } = result;
  assert.equal(incident.rootCause?.cause, cause, JSON.stringify(incident.hypotheses.map((h) => [h.cause, h.verdict])));
  assert.equal(incident.hypotheses[0]?.cause, cause);
  assert.equal(incident.hypotheses[0]?.verdict, 'pass');
  assert.match(incident.hypotheses[0]!.evidence.join('\n'), fact);
  assert.match(documents.rca, new RegExp(`\\*\\*${cause}\\*\\*`));
  assert.match(documents.rca, fact);
  assert.match(documents.problem, /^# Problem: incident-/);
  assert.match(documents.plan, new RegExp(`### \\d+\\. ${cause}`));
}

const failing = (name: string, script: string[], overrides: Partial<JobModel> = {}) =>
  pipeline(unique(name), [job('build', [step('prepare', ['echo preparing']), step('main', script)], overrides)]);

describe('investigations of real failures', () => {
  it('finds image_not_found, command_not_found, timeout, test_failure and script_error', async () => {
    await withInvestigations('inv-causes', async (bench) => {
      const image = await investigateFailure(
        bench,
        pipeline(unique('image'), [
          job('build', [step('main', ['true'], { image: 'conveyor/no-such-image:never', pullPolicy: 'never' })]),
        ]),
      );
      assertCause(image, 'image_not_found', /image 'conveyor\/no-such-image:never' is not on the Docker host/);

      const command = await investigateFailure(bench, failing('command', ['mkae all']));
      assertCause(command, 'command_not_found', /exit code 127/);
      assert.match(command.documents.rca, /mkae: not found/);

      const slow = pipeline(unique('timeout'), [job('build', [step('main', ['sleep 60'], { timeoutSeconds: 2 })])]);
      assertCause(await investigateFailure(bench, slow), 'timeout', /timed_out\) \(step timeout 2 s\)/);

      const tests = await investigateFailure(bench, failing('tests', ['echo "Tests: 2 failed, 8 passed"', 'exit 1']));
      assertCause(tests, 'test_failure', /Tests: 2 failed, 8 passed/);

      const plain = await investigateFailure(bench, failing('plain', ['echo "cannot continue"', 'exit 3']));
      assertCause(plain, 'script_error', /exit code 3 \(exit_code\)/);
      assert.ok(plain.incident.rootCause!.confidence < 0.6, 'a bare exit is reported with low confidence');
      assert.match(plain.documents.rca, /## What a human should check/);
    });
  });

  it('finds oom, permission_denied and network_unreachable', async () => {
    await withInvestigations('inv-causes2', async (bench) => {
      const oom = pipeline(unique('oom'), [
        job(
          'build',
          [
            step('main', ['node -e "const kept = []; for (;;) kept.push(Buffer.alloc(1 << 20, 1))"'], {
              image: 'conveyor/node:18',
            }),
          ],
          { resources: { memoryBytes: 64 * 1024 * 1024, cpus: 1 } },
        ),
      ]);
      assertCause(await investigateFailure(bench, oom), 'oom', /exit code 137 \(oom_killed\)/);

      const denied = await investigateFailure(bench, failing('denied', ['touch /etc/conveyor-test']));
      assertCause(denied, 'permission_denied', /Permission denied/);

      const offline = await investigateFailure(bench, failing('offline', ['wget -q -O- http://example.com/']));
      assertCause(offline, 'network_unreachable', /bad address|Network is unreachable|could not resolve/i);
    });
  });

  it('finds disk_full from a real ENOSPC (a write to /dev/full)', async () => {
    await withInvestigations('inv-disk', async (bench) => {
      const full = await investigateFailure(
        bench,
        failing('disk', ['echo writing the bundle', 'dd if=/dev/zero of=/dev/full bs=1k count=1']),
      );
      assertCause(full, 'disk_full', /No space left on device/);
    });
  });

  it('finds config_changed from a diff against the last green run, and says what changed in Problem.md', async () => {
    await withInvestigations('inv-config', async (bench) => {
      const name = unique('config');
      const green = pipeline(name, [job('build', [step('compile', ['echo compiling'])])]);
      assert.equal((await bench.run(green)).status.status, 'success');
      const red = pipeline(name, [job('build', [step('compile', ['echo compiling', 'exit 1'])])]);
      const result = await investigateFailure(bench, red);
      assertCause(
        result,
        'config_changed',
        /jobs\.build\.steps\[0\]\.script: "echo compiling" → "echo compiling\\nexit 1"/,
      );
      assert.equal(result.incident.changes[0]?.path, 'jobs.build.steps[0].script');
      assert.match(
        result.documents.problem,
        /## What changed since the last successful run\n\nCompared with `run-test-/,
      );
    });
  });

  it('finds upstream_changed when an input artifact differs from the green run, and artifact_missing', async () => {
    await withInvestigations('inv-upstream', async (bench) => {
      const name = unique('upstream');
      const model = (content: string) =>
        pipeline(name, [
          job('gen', [step('write', [`echo ${content} > data.txt`])], {
            artifacts: [{ name: 'data', paths: ['data.txt'], when: 'on_success' }],
          }),
          job('use', [step('read', ['grep -q good data.txt'])], { dependsOn: ['gen'] }),
        ]);
      assert.equal((await bench.run(model('good'))).status.status, 'success');
      const result = await investigateFailure(bench, model('bad'));
      assertCause(result, 'upstream_changed', /inputs\.gen\/data: "sha256:[0-9a-f]{64}" → "sha256:[0-9a-f]{64}"/);
      assert.equal(result.incident.hypotheses.find((h) => h.cause === 'config_changed')?.verdict ?? 'fail', 'fail');

      const missing = pipeline(unique('missing'), [
        job('gen', [step('write', ['echo nothing'])], {
          artifacts: [{ name: 'report', paths: ['report.xml'], when: 'on_success' }],
        }),
      ]);
      assertCause(await investigateFailure(bench, missing), 'artifact_missing', /artifact_missing/);
    });
  });

  it('finds flaky when the same definition, variables and inputs passed before', async () => {
    const model = pipeline(unique('flaky'), [
      job('build', [step('main', ['test "$OUTCOME" = ok'], { environment: { OUTCOME: '${secrets.OUTCOME}' } })]),
    ]);
    await withInvestigations(
      'inv-flaky-green',
      async (bench) => {
        assert.equal((await bench.run(model)).status.status, 'success');
      },
      { secrets: { OUTCOME: 'ok' } },
    );
    await withInvestigations(
      'inv-flaky-red',
      async (bench) => {
        const result = await investigateFailure(bench, model);
        assertCause(result, 'flaky', /passed with the same definition, variables and input artifacts/);
      },
      { secrets: { OUTCOME: 'bad' } },
    );
  });

  it('never puts a secret in a report, a hypothesis or stored evidence', async () => {
    const secret = 'inv-s3cr3t-4b7c9d';
    await withInvestigations(
      'inv-secret',
      async (bench) => {
        const model = failing(
          'secret',
          ['echo "using token $TOKEN"', 'echo "error: token $TOKEN rejected" >&2', 'exit 1'],
          {
            environment: { TOKEN: '${secrets.API_TOKEN}' },
          },
        );
        const { incident, documents } = await investigateFailure(bench, model);
        assert.match(documents.problem, /error: token \*\*\* rejected/, 'the failing line is quoted, masked');
        for (const text of [JSON.stringify(incident), documents.problem, documents.plan, documents.rca]) {
          assert.doesNotMatch(text, new RegExp(secret));
        }
      },
      { secrets: { API_TOKEN: secret } },
    );
  });
});
