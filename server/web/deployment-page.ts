/**
 * The Deployments pages (docs/control-plane.md#web-view): every service and environment the viewer may see with
 * its state, versions and weight; and one deployment — stable and canary, weights, the current step, the open gate
 * with who may approve and who did, the analysis measurements as a small chart over time, the decisions and
 * controls, and the **Approve / Reject / Promote / Abort** buttons shown only to users allowed to press them (and
 * only when they apply). The page follows an event stream and swaps in its fresh content when the deployment moves on (no reload).
 */
import type { DeploymentStatus } from '../../workflows/deployment-messages';
import type { DeploymentControl } from '../deployment-control';
import { html, type SafeHtml } from './html';
import { badge, csrfField, page, responsiveTable, type Viewer } from './layout';

/** One row of the Deployments page. */
export interface DeploymentRow {
  service: string;
  environment: string;
  state: string;
  status?: DeploymentStatus;
}

const path = (service: string, environment: string) =>
  `/deployments/${encodeURIComponent(service)}/${encodeURIComponent(environment)}`;

function versions(status: DeploymentStatus | undefined): string {
  if (!status) return '';
  const stable = status.stable ? status.stable.version : '—';
  return status.canary ? `${stable} → ${status.canary.version}` : stable;
}

export function deploymentsPage(options: { viewer: Viewer; rows: DeploymentRow[] }): string {
  const rows = options.rows.map(
    (row) =>
      html`<tr data-deployment="${row.service}/${row.environment}">
        <td data-label="Service"><a href="${path(row.service, row.environment)}">${row.service}</a></td>
        <td data-label="Environment">${row.environment}</td>
        <td data-label="State">${badge(row.status?.state ?? row.state)}</td>
        <td data-label="Versions">${versions(row.status)}</td>
        <td data-label="Canary weight">${row.status?.canary ? `${row.status.weights.canary} %` : ''}</td>
        <td data-label="Gate">${row.status?.gate ? row.status.gate.name : ''}</td>
      </tr>`,
  );
  return page({
    title: 'Deployments',
    viewer: options.viewer,
    current: '/deployments',
    body: html`<h1>Deployments</h1>
      ${
        rows.length === 0
          ? html`<p class="empty">
              No deployments you may see. A pipeline job with a <code>deploy:</code> block starts one.
            </p>`
          : responsiveTable({
              className: 'runs',
              headers: ['Service', 'Environment', 'State', 'Versions', 'Canary weight', 'Open gate'],
              rows,
            })
      }`,
  });
}

/** A small SVG line chart of each metric's canary (solid) and stable (dashed) values over the measurements. */
export function analysisChart(analysis: DeploymentStatus['analysis']): SafeHtml {
  const names = [...new Set(analysis.flatMap((m) => m.metrics.map((metric) => metric.name)))];
  if (names.length === 0) return html`<p class="empty">No measurements yet.</p>`;
  const width = 320;
  const height = 80;
  const charts = names.map((name) => {
    const points = analysis.map((m) => m.metrics.find((metric) => metric.name === name));
    const values = points.flatMap((p) => [p?.value, p?.stable]).filter((v): v is number => typeof v === 'number');
    const max = Math.max(...values, 0) || 1;
    const x = (index: number) => (points.length === 1 ? width / 2 : (index / (points.length - 1)) * (width - 10) + 5);
    const y = (value: number) => height - 5 - (value / max) * (height - 10);
    const line = (pick: (p: NonNullable<(typeof points)[number]>) => number | null | undefined) =>
      points
        .map((p, index) => (p && typeof pick(p) === 'number' ? `${x(index).toFixed(1)},${y(pick(p)!).toFixed(1)}` : ''))
        .filter(Boolean)
        .join(' ');
    const last = points.at(-1);
    return html`<figure class="metric-chart" data-metric="${name}">
      <figcaption>
        <code>${name}</code> ${last ? badge(last.verdict) : ''}
        <span class="muted"
          >canary ${last?.value ?? 'n/a'}${last?.stable !== undefined ? ` · stable ${last.stable ?? 'n/a'}` : ''}</span
        >
      </figcaption>
      <svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="${name} over time">
        <line class="axis" x1="0" y1="${height - 5}" x2="${width}" y2="${height - 5}" />
        <polyline class="series-stable" points="${line((p) => p.stable)}" />
        <polyline class="series-canary" points="${line((p) => p.value)}" />
      </svg>
    </figure>`;
  });
  return html`<div class="charts">${charts}</div>`;
}

/** The buttons that apply now and that the viewer may press. */
function controlButtons(
  viewer: Viewer,
  status: DeploymentStatus,
  allowed: Set<DeploymentControl>,
  base: string,
): SafeHtml[] {
  const button = (control: DeploymentControl, label: string, style: string, hidden: Record<string, string> = {}) =>
    html`<form method="post" action="${base}/${control}" data-control="${control}">
      ${csrfField(viewer)}${Object.entries(hidden).map(
        ([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`,
      )}<button type="submit" class="${style}">${label}</button>
    </form>`;
  const out: SafeHtml[] = [];
  if (status.gate && allowed.has('approve')) {
    out.push(button('approve', `Approve '${status.gate.name}'`, 'approve', { gate: status.gate.name }));
  }
  if (status.gate && allowed.has('reject')) {
    out.push(button('reject', 'Reject', 'danger', { gate: status.gate.name }));
  }
  const inStep = status.rollout && status.step && (status.step.kind === 'pause' || status.step.kind === 'analysis');
  if (inStep && allowed.has('promote')) out.push(button('promote', 'Promote', 'primary'));
  if (status.rollout && allowed.has('abort')) out.push(button('abort', 'Abort', 'danger'));
  return out;
}

export function deploymentPage(options: {
  viewer: Viewer;
  status: DeploymentStatus;
  allowed: Set<DeploymentControl>;
  temporalUrl: string;
  /** A refusal or failure of the last control, shown above the facts. */
  problem?: string;
}): string {
  const { viewer, status, allowed } = options;
  const base = path(status.service, status.environment);
  const gate = status.gate;
  const decisions = status.approvals.map(
    (d) =>
      html`<tr>
        <td data-label="Gate">${d.gate}</td>
        <td data-label="Decision">${badge(d.decision)}</td>
        <td data-label="By">${d.user}</td>
        <td data-label="Via">${d.channel}</td>
        <td data-label="At"><time datetime="${d.at}">${d.at.replace('T', ' ').slice(0, 19)}</time></td>
        <td data-label="Note">${d.reason ?? d.comment ?? ''}</td>
      </tr>`,
  );
  const buttons = controlButtons(viewer, status, allowed, base);
  return page({
    title: `${status.service} in ${status.environment}`,
    viewer,
    current: '/deployments',
    script: 'deployment.js',
    bodyData: { page: base, events: `${base}/events`, fingerprint: deploymentFingerprint(status) },
    body: html`<section class="card run-head">
        <h1>
          ${status.service} <span class="muted">in ${status.environment}</span>
          <span id="deploy-state">${badge(status.state)}</span>
        </h1>
        ${options.problem ? html`<p class="error" role="alert">${options.problem}</p>` : ''}
        <dl class="facts">
          <div>
            <dt>Stable</dt>
            <dd id="stable">
              ${status.stable ? `${status.stable.version} (${status.stable.replicas} replicas)` : '—'}
            </dd>
          </div>
          <div>
            <dt>Canary</dt>
            <dd id="canary">${status.canary ? status.canary.version : '—'}</dd>
          </div>
          <div>
            <dt>Weight</dt>
            <dd id="weight">stable ${status.weights.stable} % · canary ${status.weights.canary} %</dd>
          </div>
          <div>
            <dt>Strategy</dt>
            <dd>${status.strategy ?? '—'}</dd>
          </div>
          <div>
            <dt>Step</dt>
            <dd id="step">${status.step ? `${status.step.index + 1}: ${status.step.description}` : '—'}</dd>
          </div>
          ${
            status.held
              ? html`<div>
                  <dt>Held</dt>
                  <dd>by ${status.held.by}: ${status.held.reason}</dd>
                </div>`
              : ''
          }
        </dl>
        ${
          gate
            ? html`<div class="gate" id="gate">
                <strong>Waiting for approval: gate '${gate.name}'</strong> — approvers ${gate.approvers.join(', ')},
                ${gate.required}
                needed${gate.approvedBy.length ? html`, approved so far by ${gate.approvedBy.join(', ')}` : ''}${
                  gate.deadline
                    ? html`, decide by
                        <time datetime="${gate.deadline}">${gate.deadline.replace('T', ' ').slice(0, 19)}</time> UTC`
                    : ''
                }.
              </div>`
            : ''
        }
        <div class="actions" id="controls">
          ${buttons}<a class="button" href="${options.temporalUrl}" target="_blank" rel="noopener">Temporal UI</a>
        </div>
      </section>
      <section class="card">
        <h2>Analysis</h2>
        ${analysisChart(status.analysis)}
      </section>
      <section class="card">
        <h2>Approvals</h2>
        ${
          decisions.length === 0
            ? html`<p class="empty">No decisions in this rollout.</p>`
            : responsiveTable({
                id: 'decisions',
                headers: ['Gate', 'Decision', 'By', 'Via', 'At (UTC)', 'Note'],
                rows: decisions,
              })
        }
      </section>
      <section class="card">
        <h2>History</h2>
        ${
          status.history.length === 0
            ? html`<p class="empty">No finished rollouts.</p>`
            : html`<ul class="history">
                ${[...status.history]
                  .reverse()
                  .slice(0, 20)
                  .map(
                    (r) =>
                      html`<li>
                        ${badge(r.outcome)} ${r.version}
                        <span class="muted">(${r.strategy}, ${r.finishedAt.replace('T', ' ').slice(0, 19)})</span
                        >${r.reason ? html` — ${r.reason}` : ''}
                      </li>`,
                  )}
              </ul>`
        }
      </section>`,
  });
}

/**
 * What changes what the deployment page shows: the page's event stream sends it when it changes, and the page
 * script then swaps in the page's fresh content (docs/control-plane.md).
 */
export function deploymentFingerprint(status: DeploymentStatus): string {
  return JSON.stringify([
    status.state,
    status.gate?.name ?? null,
    status.gate?.approvedBy ?? [],
    status.stable?.version ?? null,
    status.canary?.version ?? null,
    status.weights.canary,
    status.step?.index ?? null,
    status.held?.by ?? null,
    status.approvals.length,
  ]);
}
