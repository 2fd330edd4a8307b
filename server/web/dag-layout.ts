/**
 * The job DAG of a run laid out as a graph with dagre (left to right, dependencies before dependents) and drawn as
 * SVG. Each job node carries `data-job` and a `job--<state>` class, so the page's script only changes classes as
 * states change; the layout itself never changes during a run.
 */
import dagre from '@dagrejs/dagre';
import { html, raw, type SafeHtml } from './html';

/** A job to draw: its name, state and the jobs it waits for. */
export interface DagJob {
  name: string;
  status: string;
  dependsOn: string[];
}

/** Where dagre put everything, in SVG user units. */
export interface DagLayout {
  width: number;
  height: number;
  nodes: { name: string; x: number; y: number; width: number; height: number }[];
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
}

const nodeHeight = 44;
const maxLabel = 28;

/** Lays the jobs out; node width follows the (shortened) name. */
export function layoutDag(jobs: readonly DagJob[]): DagLayout {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const names = new Set(jobs.map((job) => job.name));
  for (const job of jobs) {
    graph.setNode(job.name, { width: Math.max(120, 8 * Math.min(job.name.length, maxLabel) + 44), height: nodeHeight });
  }
  for (const job of jobs)
    for (const dependency of job.dependsOn) if (names.has(dependency)) graph.setEdge(dependency, job.name);
  dagre.layout(graph);
  const label = graph.graph();
  return {
    width: Math.ceil(label.width ?? 0),
    height: Math.ceil(label.height ?? 0),
    nodes: graph.nodes().map((name: string) => {
      const node = graph.node(name);
      return { name, x: node.x, y: node.y, width: node.width, height: node.height };
    }),
    edges: graph
      .edges()
      .map((edge: { v: string; w: string }) => ({ from: edge.v, to: edge.w, points: graph.edge(edge).points ?? [] })),
  };
}

/** The DAG as an SVG element (scales to the page's width; scrolls when wider than a phone). */
export function renderDag(jobs: readonly DagJob[]): SafeHtml {
  const layout = layoutDag(jobs);
  const statusOf = new Map(jobs.map((job) => [job.name, job.status]));
  const edges = layout.edges.map((edge) => {
    const d = edge.points.map(
      (point, index) => `${index === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`,
    );
    return html`<path
      class="dag-edge"
      data-from="${edge.from}"
      data-to="${edge.to}"
      d="${d.join(' ')}"
      marker-end="url(#arrow)"
    />`;
  });
  const nodes = layout.nodes.map((node) => {
    const left = node.x - node.width / 2;
    const top = node.y - node.height / 2;
    const shown = node.name.length > maxLabel ? `${node.name.slice(0, maxLabel - 1)}…` : node.name;
    const status = statusOf.get(node.name) ?? 'pending';
    return html`<g
      class="job job--${status}"
      data-job="${node.name}"
      tabindex="0"
      role="button"
      aria-label="job ${node.name}: ${status}"
    >
      <title>${node.name}</title>
      <rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${node.width}" height="${node.height}" rx="8" />
      <circle class="job-dot" cx="${(left + 16).toFixed(1)}" cy="${node.y.toFixed(1)}" r="6" />
      <text x="${(left + 30).toFixed(1)}" y="${(node.y + 5).toFixed(1)}">${shown}</text>
    </g>`;
  });
  return html`<svg
    class="dag"
    viewBox="0 0 ${layout.width} ${layout.height}"
    width="${layout.width}"
    height="${layout.height}"
    role="img"
    aria-label="job graph"
  >
    <defs>
      <marker
        id="arrow"
        viewBox="0 0 10 10"
        refX="9"
        refY="5"
        markerWidth="7"
        markerHeight="7"
        orient="auto-start-reverse"
      >
        <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
      </marker>
    </defs>
    ${edges}${raw('\n')}${nodes}
  </svg>`;
}
