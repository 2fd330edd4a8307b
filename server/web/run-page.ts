/**
 * The Run page: the job DAG (dagre) coloured by state, the selected job's steps with attempts, exit codes and
 * reasons, and the step output streaming live; cancel and re-run buttons for operators; a link to the Temporal UI.
 * `assets/run.js` keeps it live from the run's event streams (server-sent events).
 */
import type { PipelineRunStatus } from '../../workflows/pipeline-run-messages';
import { renderDag } from './dag-layout';
import { html, raw } from './html';
import { badge, csrfField, formatElapsed, page, type Viewer } from './layout';

export interface RunPageData {
  viewer: Viewer;
  runId: string;
  status: PipelineRunStatus;
  /** Each job's dependencies, from the run's definition. */
  dependsOn: Record<string, string[]>;
  trigger?: string;
  rerunOf?: string;
  temporalUrl: string;
  /** Whether the viewer may cancel and re-run. */
  canOperate: boolean;
}

/** JSON for a `<script type="application/json">` block: `<` escaped so the text can never close the element. */
function embedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function runPage(data: RunPageData): string {
  const { status, runId, viewer } = data;
  const jobs = Object.entries(status.jobs).map(([name, job]) => ({
    name,
    status: job.status,
    dependsOn: data.dependsOn[name] ?? [],
  }));
  const running = status.status === 'running';
  const rerunnable = !running && Object.values(status.jobs).some((job) => job.status !== 'success');
  const base = `/runs/${encodeURIComponent(runId)}`;
  const actions = data.canOperate
    ? html`<form method="post" action="${base}/cancel" data-action="cancel" ${running ? '' : html` hidden`}>
          ${csrfField(viewer)}<button type="submit" class="danger">Cancel run</button>
        </form>
        <form method="post" action="${base}/rerun" data-action="rerun" ${rerunnable ? '' : html` hidden`}>
          ${csrfField(viewer)}<input type="hidden" name="failed" value="1" /><button type="submit">
            Re-run failed jobs
          </button>
        </form>`
    : '';
  return page({
    title: `${status.pipeline} ${runId}`,
    viewer,
    current: '/runs',
    script: 'run.js',
    bodyData: { 'run-id': runId },
    body: html`<section class="run-head">
        <h1>${status.pipeline} <span id="run-status">${badge(status.status)}</span></h1>
        <p class="run-id">${runId}</p>
        <dl class="facts">
          ${
            data.trigger
              ? html`<div>
                  <dt>Trigger</dt>
                  <dd>${data.trigger}</dd>
                </div>`
              : ''
          }
          ${
            data.rerunOf
              ? html`<div>
                  <dt>Re-run of</dt>
                  <dd><a href="/runs/${encodeURIComponent(data.rerunOf)}">${data.rerunOf}</a></dd>
                </div>`
              : ''
          }
          <div>
            <dt>Started</dt>
            <dd><time datetime="${status.startedAt}">${status.startedAt.replace('T', ' ').slice(0, 19)} UTC</time></dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd id="run-duration">${formatElapsed(status.startedAt, status.finishedAt)}</dd>
          </div>
        </dl>
        <div class="actions">
          ${actions}<a class="button" href="${data.temporalUrl}" target="_blank" rel="noopener">Temporal UI</a>
        </div>
      </section>
      <section class="dag-wrap" aria-label="jobs">${renderDag(jobs)}</section>
      <section class="job-detail card" id="job-detail" aria-live="polite">
        <p class="empty">Select a job to see its steps.</p>
      </section>
      <section class="logs card">
        <div class="logs-head">
          <h2>Output</h2>
          <label
            >Job
            <select id="log-filter">
              <option value="">all jobs</option>
              ${jobs.map((job) => html`<option value="${job.name}">${job.name}</option>`)}
            </select></label
          >
        </div>
        <pre id="log" class="log" tabindex="0" aria-label="step output"></pre>
      </section>
      <script type="application/json" id="run-data">
        ${raw(embedJson({ runId, status }))}
      </script>`,
  });
}
