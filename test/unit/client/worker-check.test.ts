/**
 * What `conveyor run` and `conveyor dev` conclude from a task queue's pollers: a worker is live while it re-polls
 * within the server's long-poll window, and the notices say which queue waits and how to start a worker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  livePollerWindowMs,
  pollsEveryQueue,
  unpolledQueues,
  type QueuePollers,
} from '../../../client/task-queue-pollers';
import { noWorkerMessage, notPickedUpMessage } from '../../../client/worker-check';

const now = Date.parse('2026-01-01T12:00:00Z');
const secondsAgo = (seconds: number) => new Date(now - seconds * 1000);

function queues(workflowPoll?: Date, dockerPoll?: Date, identity = '42@host'): QueuePollers[] {
  return [
    { queue: 'conveyor', kind: 'workflow', pollers: workflowPoll ? [{ identity, lastPolledAt: workflowPoll }] : [] },
    { queue: 'conveyor-docker', kind: 'activity', pollers: dockerPoll ? [{ identity, lastPolledAt: dockerPoll }] : [] },
  ];
}

describe('task queue pollers', () => {
  it('count a worker as live while its last poll is within the long-poll window', () => {
    assert.deepEqual(unpolledQueues(queues(secondsAgo(50), secondsAgo(1)), now), []);
    const stale = unpolledQueues(queues(secondsAgo(livePollerWindowMs / 1000 + 1), secondsAgo(1)), now);
    assert.deepEqual(
      stale.map((queue) => queue.queue),
      ['conveyor'],
    );
    assert.equal(unpolledQueues(queues(), now).length, 2);
  });

  it('recognise the worker process dev up started by its identity on every queue', () => {
    assert.equal(pollsEveryQueue(queues(secondsAgo(5), secondsAgo(5), '42@host'), 42, now), true);
    assert.equal(pollsEveryQueue(queues(secondsAgo(5), secondsAgo(5), '421@host'), 42, now), false);
    assert.equal(pollsEveryQueue(queues(secondsAgo(5), undefined, '42@host'), 42, now), false);
  });
});

describe('worker notices', () => {
  it('name the queues nobody polls, when they were last polled, and how to start a worker', () => {
    assert.equal(
      noWorkerMessage(unpolledQueues(queues(), now), '127.0.0.1:7233', now),
      "no worker is polling task queues 'conveyor' and 'conveyor-docker' on 127.0.0.1:7233; the run waits until one " +
        "does: start one with 'conveyor dev up', or run 'node dist/workers/main.js' with the same TEMPORAL_ADDRESS",
    );
    assert.match(
      noWorkerMessage(unpolledQueues(queues(secondsAgo(300), secondsAgo(1)), now), '127.0.0.1:7233', now),
      /^no worker is polling task queue 'conveyor' on 127\.0\.0\.1:7233 \(last polled 5 min ago\); /,
    );
  });

  it('say a run was not picked up, with the last poll a crashed worker left behind', () => {
    assert.match(
      notPickedUpMessage(queues(secondsAgo(12), secondsAgo(12)), 5, now),
      /^no worker has picked up the run after 5 s \(task queue 'conveyor' last polled 12 s ago\); if the worker stopped, start one with 'conveyor dev up'/,
    );
  });
});
