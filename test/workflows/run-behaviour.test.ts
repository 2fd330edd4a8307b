/**
 * How runs behave (DESIGN.md §5), on the real dev server and Docker engine: parallelism, failure propagation and
 * conditions, timeouts, retries, secrets.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { findTool } from '../../client/dev/processes';
import { runCommand } from '../helpers/cli';
import { job, pipeline, step } from '../helpers/models';
import { fastOptions, overlapped, runPipeline } from '../helpers/runs';
import { closeTestEnvironment, config, docker, leftoversOf, logs } from '../helpers/temporal';

/**
 * `temporal workflow show -o json` for a workflow, with every payload's base64 `data` decoded to text so that a
 * search of it sees what the payloads say.
 */
async function shownHistory(workflowId: string): Promise<string> {
  const temporal = findTool('temporal', config.cacheDir);
  const shown = await runCommand(temporal, [
    'workflow',
    'show',
    '-w',
    workflowId,
    '--address',
    config.temporal.address,
    '-o',
    'json',
  ]);
  assert.equal(shown.code, 0, shown.stderr);
  const decode = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(decode);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => [
          key,
          key === 'data' && typeof inner === 'string' ? Buffer.from(inner, 'base64').toString('utf8') : decode(inner),
        ]),
      );
    }
    return value;
  };
  return JSON.stringify(decode(JSON.parse(shown.stdout)));
}

describe('run behaviour', () => {
  after(closeTestEnvironment);

  it('runs a diamond in dependency order with its two middle jobs in parallel', async () => {
    const sleepy = (name: string) => [step(name, ['sleep 2'])];
    const { runId, status } = await runPipeline(
      pipeline('diamond', [
        job('a', [step('a', ['true'])]),
        job('b', sleepy('b'), { dependsOn: ['a'] }),
        job('c', sleepy('c'), { dependsOn: ['a'] }),
        job('d', [step('d', ['true'])], { dependsOn: ['b', 'c'] }),
      ]),
    );
    assert.equal(status.status, 'success');
    const at = (name: string, key: 'startedAt' | 'finishedAt') => status.jobs[name]![key]!;
    assert.ok(at('a', 'finishedAt') <= at('b', 'startedAt') && at('a', 'finishedAt') <= at('c', 'startedAt'));
    assert.ok(overlapped(status, 'b', 'c'), 'b and c ran at the same time');
    assert.ok(at('d', 'startedAt') >= at('b', 'finishedAt') && at('d', 'startedAt') >= at('c', 'finishedAt'));
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('runs a wide level of independent jobs all at once', async () => {
    const names = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
    const { status } = await runPipeline(
      pipeline(
        'wide',
        names.map((name) => job(name, [step('s', ['sleep 2'])])),
      ),
    );
    assert.equal(status.status, 'success');
    const latestStart = names
      .map((name) => status.jobs[name]!.startedAt!)
      .sort()
      .at(-1)!;
    const earliestFinish = names.map((name) => status.jobs[name]!.finishedAt!).sort()[0]!;
    assert.ok(latestStart < earliestFinish, 'every job started before any finished');
  });

  it('starts a job as soon as its own dependencies finish, without waiting for the rest of a level', async () => {
    const { status } = await runPipeline(
      pipeline('no-barrier', [
        job('fast', [step('s', ['true'])]),
        job('slow', [step('s', ['sleep 3'])]),
        job('after-fast', [step('s', ['true'])], { dependsOn: ['fast'] }),
      ]),
    );
    assert.ok(status.jobs['after-fast']!.finishedAt! < status.jobs.slow!.finishedAt!);
  });

  it('skips the dependents of a failure, runs always() jobs, finishes independent branches and skips false conditions', async () => {
    const { status } = await runPipeline(
      pipeline('failure', [
        job('build', [step('compile', ['exit 1'])]),
        job('test', [step('unit', ['true'])], { dependsOn: ['build'] }),
        job('package', [step('tar', ['true'])], { dependsOn: ['test'] }),
        job('report', [step('send', ['echo reporting'])], { dependsOn: ['build'], if: 'always()' }),
        job('on-failure', [step('page', ['true'])], { dependsOn: ['build'], if: '${{ failure() }}' }),
        job('lint', [step('check', ['sleep 1'])]),
        job('docs', [step('publish', ['true'])], { if: "vars.PUBLISH == 'yes'" }),
        job('after-docs', [step('s', ['true'])], { dependsOn: ['docs'] }),
      ]),
      { vars: { PUBLISH: 'no' } },
    );
    assert.equal(status.status, 'failed');
    const summary = Object.fromEntries(
      Object.entries(status.jobs).map(([name, job]) => [name, `${job.status}${job.reason ? `:${job.reason}` : ''}`]),
    );
    assert.deepEqual(summary, {
      build: 'failed:exit_code',
      test: 'skipped:upstream_failed',
      package: 'skipped:upstream_failed',
      report: 'success',
      'on-failure': 'success',
      lint: 'success',
      docs: 'skipped:condition_false',
      'after-docs': 'skipped:condition_false',
    });
  });

  it('ends a step that outlives its timeout as timed_out within the grace period and removes its container', async () => {
    const { runId, status } = await runPipeline(
      pipeline('timeout', [job('slow', [step('sleep', ['sleep 600'], { timeoutSeconds: 2 })])]),
    );
    assert.equal(status.jobs.slow?.status, 'failed');
    assert.equal(status.jobs.slow?.reason, 'timed_out');
    assert.equal(status.jobs.slow?.steps[0]?.status, 'timed_out');
    // 128 + 15: SIGTERM ended the script within the grace period; SIGKILL (137) was not needed.
    assert.equal(status.jobs.slow?.steps[0]?.exitCode, 143);
    assert.deepEqual(await leftoversOf(runId), []);
  });

  it('retries a failing step per retry_count with state kept in the workspace, and never retries exit 127', async () => {
    const flaky = [
      'n=$(cat /workspace/count 2>/dev/null || echo 0)',
      'n=$((n + 1))',
      'echo $n > /workspace/count',
      'echo "attempt $n"',
      'test $n -ge 3',
    ];
    const { status } = await runPipeline(
      pipeline('retries', [
        job('flaky', [step('try', flaky, { retryCount: 2 })]),
        job('missing', [step('run', ['no-such-tool --version'], { retryCount: 3 })]),
      ]),
    );
    assert.equal(status.jobs.flaky?.status, 'success');
    assert.equal(status.jobs.flaky?.steps[0]?.attempts, 3);
    assert.equal(status.jobs.missing?.status, 'failed');
    assert.equal(status.jobs.missing?.reason, 'command_not_found');
    assert.equal(status.jobs.missing?.steps[0]?.attempts, 1);
    assert.equal(status.jobs.missing?.exitCode, 127);
  });

  it('retries only the exit codes listed in retry_on', async () => {
    const { status } = await runPipeline(
      pipeline('retry-on', [
        job('listed', [step('s', ['exit 75'], { retryCount: 2, retryOn: [75] })]),
        job('unlisted', [step('s', ['exit 1'], { retryCount: 2, retryOn: [75] })]),
      ]),
    );
    assert.equal(status.jobs.listed?.steps[0]?.attempts, 3);
    assert.equal(status.jobs.unlisted?.steps[0]?.attempts, 1);
  });

  for (const inlineEventBudget of [undefined, 0]) {
    it(`masks a secret in the log store, the run status and Temporal history, even when printed in pieces (${inlineEventBudget === 0 ? 'child-workflow jobs' : 'inline jobs'})`, async () => {
      const secret = 's3cr3t-value-9f8e';
      const { runId, status } = await runPipeline(
        pipeline('secrets', [
          job('use', [
            step(
              'print',
              [
                'echo "token=$TOKEN"',
                // The value leaves the container in two writes, so it reaches the worker in two chunks.
                'printf "%s" "$(echo "$TOKEN" | cut -c1-6)"; sleep 0.5; printf "%s\\n" "$(echo "$TOKEN" | cut -c7-)"',
                'exit 2',
              ],
              { environment: { TOKEN: '${secrets.API_TOKEN}' } },
            ),
          ]),
        ]),
        { secrets: { API_TOKEN: secret }, runOptions: { ...fastOptions, inlineEventBudget } },
      );
      assert.equal(status.jobs.use?.status, 'failed');
      const { records } = await logs.read(runId);
      assert.deepEqual(
        records.map((record) => record.line),
        ['token=***', '***'],
      );
      assert.doesNotMatch(JSON.stringify(status), new RegExp(secret));
      for (const workflowId of [runId, ...(status.jobs.use?.workflowId ? [status.jobs.use.workflowId] : [])]) {
        const history = await shownHistory(workflowId);
        assert.match(history, /API_TOKEN/, 'the decoded history holds the reference, so the check below can fail');
        assert.doesNotMatch(history, new RegExp(secret));
      }
      assert.equal(
        (await docker.listContainers({ all: true, filters: { label: [`conveyor.run=${runId}`] } })).length,
        0,
      );
    });
  }

  it('fails a step that uses a secret the worker does not have, naming it', async () => {
    const { status } = await runPipeline(
      pipeline('missing-secret', [
        job('use', [step('print', ['true'], { environment: { TOKEN: '${secrets.NOT_SET}' } })]),
      ]),
    );
    assert.equal(status.jobs.use?.status, 'failed');
    assert.equal(status.jobs.use?.reason, 'configuration');
    assert.match(status.jobs.use?.message ?? '', /secret 'NOT_SET' is not set on the worker/);
  });
});
