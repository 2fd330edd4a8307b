/** The web view's building blocks: escaping, and the job DAG laid out by dagre rather than by hand. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { layoutDag, renderDag } from '../../../server/web/dag-layout';
import { html, raw } from '../../../server/web/html';

describe('web rendering', () => {
  it('escapes interpolated text but not markup the server made', () => {
    const name = `<script>alert("x")</script>&'`;
    assert.equal(
      html`<p title="${name}">${name}${raw('<b>ok</b>')}</p>`.text,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;<b>ok</b></p>',
    );
  });

  it('lays a diamond out left to right: dependencies before dependents, siblings apart', () => {
    const layout = layoutDag([
      { name: 'build', status: 'success', dependsOn: [] },
      { name: 'unit', status: 'running', dependsOn: ['build'] },
      { name: 'lint', status: 'pending', dependsOn: ['build'] },
      { name: 'ship', status: 'pending', dependsOn: ['unit', 'lint'] },
    ]);
    const at = (name: string) => layout.nodes.find((node) => node.name === name)!;
    assert.ok(at('build').x < at('unit').x && at('unit').x < at('ship').x);
    assert.equal(at('unit').x, at('lint').x);
    assert.ok(Math.abs(at('unit').y - at('lint').y) >= at('unit').height, 'siblings do not overlap');
    assert.equal(layout.edges.length, 4);
    for (const edge of layout.edges) assert.ok(edge.points.length >= 2);
  });

  it('draws every job as a node with its state class, and escapes job names', () => {
    const svg = renderDag([
      { name: 'a<b', status: 'failed', dependsOn: [] },
      { name: 'test (node=18)', status: 'skipped', dependsOn: ['a<b'] },
    ]).text;
    assert.match(svg, /<g\s+class="job job--failed"\s+data-job="a&lt;b"/);
    assert.match(svg, /<g\s+class="job job--skipped"\s+data-job="test \(node=18\)"/);
    assert.match(svg, /<path\s+class="dag-edge"\s+data-from="a&lt;b"\s+data-to="test \(node=18\)"/);
  });
});
