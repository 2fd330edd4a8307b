/** The Runs page: recent runs with status, pipeline, trigger and duration, filtered by pipeline and status. */
import type { RunListing } from '../../client/runs';
import { html } from './html';
import { badge, formatElapsed, page, responsiveTable, type Viewer } from './layout';

const statuses = ['running', 'success', 'failed', 'cancelled'];

export function runsPage(options: {
  viewer: Viewer;
  runs: RunListing[];
  filter: { pipeline?: string; status?: string };
  now?: number;
}): string {
  const { runs, filter } = options;
  const rows = runs.map(
    (run) =>
      html`<tr data-run="${run.runId}">
        <td data-label="Run"><a href="/runs/${encodeURIComponent(run.runId)}">${run.runId}</a></td>
        <td data-label="Pipeline"><a href="/runs?pipeline=${encodeURIComponent(run.pipeline)}">${run.pipeline}</a></td>
        <td data-label="Status">${badge(run.status)}</td>
        <td data-label="Trigger">${run.trigger}</td>
        <td data-label="Started">
          <time datetime="${run.startTime}">${run.startTime.replace('T', ' ').slice(0, 19)}</time>
        </td>
        <td data-label="Duration">${formatElapsed(run.startTime, run.closeTime, options.now)}</td>
      </tr>`,
  );
  return page({
    title: 'Runs',
    viewer: options.viewer,
    current: '/runs',
    body: html`<h1>Runs</h1>
      <form class="filters" method="get" action="/runs">
        <label>Pipeline <input name="pipeline" value="${filter.pipeline ?? ''}" placeholder="any" /></label>
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${statuses.map(
              (status) =>
                html`<option value="${status}" ${status === filter.status ? html` selected` : ''}>${status}</option>`,
            )}
          </select></label
        >
        <button type="submit">Filter</button>
      </form>
      ${
        runs.length === 0
          ? html`<p class="empty">
              No runs match. Start one with <code>conveyor run pipeline.yml</code> or <code>POST /api/runs</code>.
            </p>`
          : responsiveTable({
              className: 'runs',
              headers: ['Run', 'Pipeline', 'Status', 'Trigger', 'Started (UTC)', 'Duration'],
              rows,
            })
      }`,
  });
}
