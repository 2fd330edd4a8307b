/**
 * Concurrency groups end to end (docs/triggers.md): quick pushes of real git commits, delivered as signed GitHub
 * webhooks to the real server, start runs that take turns in their group on real Temporal and Docker. With
 * `cancel_in_progress: true` three pushes leave one finished run (the last push) and two cancelled ones; with
 * `false` the running one finishes and only the one still waiting is replaced; a new push to a pull request cancels
 * that pull request's older run. No run leaves a container, volume or network behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { statusQuery, type PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { git } from '../helpers/git';
import {
  githubPushPayload,
  pushCommit,
  sendGithubHook,
  startHookFixture,
  type HookFixture,
  type PushedChange,
} from '../helpers/github-hooks';
import { eventually, type TestServer } from '../helpers/server';
import type { StatusReceiver } from '../helpers/status-receiver';
import { leftoversOf } from '../helpers/temporal';

const secret = 'concurrency-webhook-secret';

/** A pipeline whose one job takes a while, in the group `deploy-<branch>`. */
const pipeline = (cancelInProgress: boolean) => `name: grouped-app
triggers:
  push:
    branches: [main, "release/*"]
  pull_request:
    branches: [main]
concurrency:
  group: deploy-\${CONVEYOR_BRANCH}
  cancel_in_progress: ${cancelInProgress}
jobs:
  build:
    steps:
      - name: build
        image: conveyor/busybox:latest
        script:
          - echo "building $(cat VERSION)"
          - sleep 6
          - echo "built $(cat VERSION)"
`;

let server: TestServer;
let receiver: StatusReceiver;
let work = '';
let bare = '';
let fixture: HookFixture | undefined;
const started: string[] = [];

/** Sends one signed delivery and returns the run it started. */
async function deliver(event: string, payload: unknown): Promise<string> {
  const answer = await sendGithubHook(server.url, secret, event, payload);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
  const runId = answer.body.started![0]!.runId;
  started.push(runId);
  return runId;
}

/** Pushes `versions` one after the other as quickly as a developer's script would, each with its own webhook. */
async function quickPushes(branch: string, versions: string[]): Promise<Array<{ runId: string } & PushedChange>> {
  const runs: Array<{ runId: string } & PushedChange> = [];
  for (const version of versions) {
    const change = await pushCommit(work, bare, branch, { VERSION: `${version}\n` }, `Release ${version}`);
    runs.push({ ...change, runId: await deliver('push', githubPushPayload(change, branch)) });
  }
  return runs;
}

/** How a run ended (the workflow's own status) and its final status as the run recorded it. */
async function ended(runId: string): Promise<{ outcome: string; status: PipelineRunStatus }> {
  const handle = server.context.client.workflow.getHandle(runId);
  await handle.result().catch(() => undefined);
  const outcome = (await handle.describe()).status.name.toLowerCase();
  return { outcome, status: await handle.query(statusQuery) };
}

async function logLines(runId: string): Promise<string[]> {
  const { records } = await server.context.logs.read(runId);
  return records.map((record) => record.line);
}

/** Nothing of the run is left on the Docker host (removal may finish just after the run has ended). */
function noLeftovers(runId: string): Promise<true> {
  return eventually(`nothing of ${runId} left`, async () =>
    (await leftoversOf(runId)).length === 0 ? true : undefined,
  );
}

describe('concurrency groups', () => {
  before(async () => {
    fixture = await startHookFixture(
      'concurrency',
      { '.conveyor.yml': pipeline(true), VERSION: '0.0.0\n' },
      (repositoryUrl, receiverUrl) => ({
        public_url: 'http://conveyor.test',
        github: { webhook_secret: secret, api_url: `${receiverUrl}/github`, token: 'gh-status-token' },
        repositories: [{ name: 'acme/app', url: repositoryUrl }],
      }),
    );
    ({ server, receiver, work, bare } = fixture);
  });
  after(async () => {
    // A failed assertion may leave runs going: cancel them so that their containers go before the workers stop.
    for (const runId of started) {
      await server?.context.client.workflow
        .getHandle(runId)
        .cancel()
        .catch(() => undefined);
    }
    for (const runId of started) await ended(runId).catch(() => undefined);
    await fixture?.stop();
  });

  it('three quick pushes with cancel_in_progress leave the last push finished and the two before it cancelled', async () => {
    const runs = await quickPushes('main', ['1.0.1', '1.0.2', '1.0.3']);
    const [first, second, third] = await Promise.all(runs.map((run) => ended(run.runId)));

    assert.equal(third!.outcome, 'completed');
    assert.equal(third!.status.status, 'success');
    const lines = await logLines(runs[2]!.runId);
    assert.ok(lines.includes('built 1.0.3'), lines.join('\n'));
    for (const [index, run] of [first!, second!].entries()) {
      assert.equal(run.outcome, 'cancelled', `push ${index + 1} is cancelled`);
      assert.equal(run.status.status, 'cancelled', `push ${index + 1}'s status says cancelled`);
      assert.equal(run.status.jobs.build!.status, 'cancelled');
      assert.ok(!(await logLines(runs[index]!.runId)).includes(`built 1.0.${index + 1}`), 'it did not finish');
    }

    // Each commit got `pending`, then its final state: GitHub has no "cancelled" state, so `error`.
    for (const [index, run] of runs.entries()) {
      const final = index === 2 ? 'success' : 'error';
      await receiver.waitFor((statuses) => statuses.some((s) => s.sha === run.after && s.state === final));
      const states = receiver.forCommit(run.after).map((status) => status.state);
      assert.equal(states[0], 'pending', `push ${index + 1}: ${states.join(', ')}`);
      assert.equal(states.at(-1), final, `push ${index + 1}: ${states.join(', ')}`);
    }
    for (const run of runs) await noLeftovers(run.runId);
  });

  it('without cancel_in_progress the running push finishes and only the waiting one is replaced', async () => {
    await git(work, 'checkout', '--quiet', '-B', 'release/queue');
    await pushCommit(work, bare, 'release/queue', { '.conveyor.yml': pipeline(false) }, 'Queue instead of cancel');
    const runs = await quickPushes('release/queue', ['2.0.1', '2.0.2', '2.0.3']);
    const [first, second, third] = await Promise.all(runs.map((run) => ended(run.runId)));

    assert.deepEqual(
      [first!.status.status, second!.status.status, third!.status.status],
      ['success', 'cancelled', 'success'],
    );
    assert.equal(second!.status.jobs.build!.status, 'cancelled');
    assert.deepEqual(await logLines(runs[1]!.runId), [], 'the replaced push never ran a step');
    // They took turns: the last push started only after the first had finished.
    const [firstBuild, thirdBuild] = [first!.status.jobs.build!, third!.status.jobs.build!];
    assert.ok(thirdBuild.startedAt! >= firstBuild.finishedAt!, JSON.stringify([firstBuild, thirdBuild]));
    for (const run of runs) await noLeftovers(run.runId);
  });

  it('a new push to a pull request cancels that pull request’s older run', async () => {
    const base = await git(bare, 'rev-parse', 'refs/heads/main');
    const pullRequest = (change: PushedChange, action: string) => ({
      action,
      number: 12,
      pull_request: { head: { ref: 'feature/fast', sha: change.after }, base: { ref: 'main', sha: base } },
      repository: { full_name: 'acme/app', clone_url: 'https://github.invalid/acme/app.git', default_branch: 'main' },
    });
    // A pipeline without `concurrency:`: a pull request's runs form a group of their own.
    await git(work, 'checkout', '--quiet', '-B', 'feature/fast', 'main');
    const withoutGroup = pipeline(true).replace(/concurrency:\n(.*\n){2}/, '');
    const opened = await pushCommit(work, bare, 'feature/fast', { '.conveyor.yml': withoutGroup }, 'Start');
    const olderRun = await deliver('pull_request', pullRequest(opened, 'opened'));
    const synchronized = await pushCommit(work, bare, 'feature/fast', { VERSION: '3.0.1\n' }, 'Fix');
    const newerRun = await deliver('pull_request', pullRequest(synchronized, 'synchronize'));

    const [older, newer] = await Promise.all([ended(olderRun), ended(newerRun)]);
    assert.equal(older.status.status, 'cancelled');
    assert.equal(newer.status.status, 'success');
    assert.ok((await logLines(newerRun)).includes('built 3.0.1'));
    await noLeftovers(olderRun);
    await noLeftovers(newerRun);
  });
});
