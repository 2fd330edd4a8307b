// The Run page, live: job states from /api/runs/:id/events, step output from /api/runs/:id/logs?follow=1 (both
// server-sent events, which the browser reconnects by itself). Plain browser JavaScript, no build step.
'use strict';

(function () {
  const runId = document.body.dataset.runId;
  const initial = JSON.parse(document.getElementById('run-data').textContent);
  const api = '/api/runs/' + encodeURIComponent(runId);
  const detail = document.getElementById('job-detail');
  const log = document.getElementById('log');
  const filter = document.getElementById('log-filter');
  const maxLines = 5000;
  let status = initial.status;
  let selected = decodeURIComponent(location.hash.slice(1)) || defaultJob(status);

  function defaultJob(current) {
    const names = Object.keys(current.jobs);
    const pick = (states) => names.find((name) => states.includes(current.jobs[name].status));
    return pick(['running', 'retrying']) || pick(['failed']) || names[0] || '';
  }

  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
    for (const child of children || []) node.append(child);
    return node;
  }

  function badge(state) {
    return element('span', { class: 'badge badge--' + state }, [state.replace(/_/g, ' ')]);
  }

  function elapsed(start, end) {
    if (!start) return '';
    const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
    if (!(ms >= 0)) return '';
    const seconds = Math.round(ms / 1000);
    if (seconds < 60) return seconds + 's';
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + 'm ' + String(seconds % 60).padStart(2, '0') + 's';
    return Math.floor(minutes / 60) + 'h ' + String(minutes % 60).padStart(2, '0') + 'm';
  }

  function renderNodes() {
    for (const node of document.querySelectorAll('.dag .job')) {
      const name = node.dataset.job;
      const job = status.jobs[name];
      if (!job) continue;
      node.setAttribute('class', 'job job--' + job.status + (name === selected ? ' job--selected' : ''));
      node.setAttribute('aria-label', 'job ' + name + ': ' + job.status);
    }
  }

  function renderDetail() {
    const job = status.jobs[selected];
    if (!job) return;
    const rows = job.steps.map((step) =>
      element('tr', { 'data-step': step.name }, [
        element('td', { 'data-label': 'Step' }, [step.name]),
        element('td', { 'data-label': 'Status' }, [badge(step.status)]),
        element('td', { 'data-label': 'Attempts' }, [String(step.attempts)]),
        element('td', { 'data-label': 'Exit code' }, [step.exitCode === undefined ? '' : String(step.exitCode)]),
        element('td', { 'data-label': 'Reason' }, [
          step.status === 'success' ? '' : [step.reason, step.message].filter(Boolean).join(': '),
        ]),
        element('td', { 'data-label': 'Duration' }, [elapsed(step.startedAt, step.finishedAt)]),
      ]),
    );
    const why = job.reason ? [job.reason, job.message].filter(Boolean).join(': ') : '';
    const heading = element('h2', {}, [selected + ' ', badge(job.status)]);
    const facts = element('p', { class: 'job-facts' }, [
      [
        job.attempts > 1 ? 'attempts: ' + job.attempts : '',
        job.reused ? 'result reused from the earlier run' : '',
        why,
        elapsed(job.startedAt, job.finishedAt),
      ]
        .filter(Boolean)
        .join(' · '),
    ]);
    const table = rows.length
      ? element('table', { class: 'steps responsive' }, [
          element('thead', {}, [
            element(
              'tr',
              {},
              ['Step', 'Status', 'Attempts', 'Exit code', 'Reason', 'Duration'].map((h) => element('th', {}, [h])),
            ),
          ]),
          element('tbody', {}, rows),
        ])
      : element('p', { class: 'empty' }, [job.status === 'pending' ? 'Waiting to start.' : 'No steps ran.']);
    detail.replaceChildren(heading, facts, table);
    detail.dataset.job = selected;
  }

  function renderHead() {
    document.getElementById('run-status').replaceChildren(badge(status.status));
    document.getElementById('run-duration').textContent = elapsed(status.startedAt, status.finishedAt);
    const running = status.status === 'running';
    const rerunnable = !running && Object.values(status.jobs).some((job) => job.status !== 'success');
    const cancel = document.querySelector('form[data-action="cancel"]');
    const rerun = document.querySelector('form[data-action="rerun"]');
    if (cancel) cancel.hidden = !running;
    if (rerun) rerun.hidden = !rerunnable;
  }

  function render() {
    renderHead();
    renderNodes();
    renderDetail();
  }

  function select(name) {
    if (!status.jobs[name]) return;
    selected = name;
    history.replaceState(null, '', '#' + encodeURIComponent(name));
    filter.value = name;
    applyFilter();
    render();
  }

  for (const node of document.querySelectorAll('.dag .job')) {
    node.addEventListener('click', () => select(node.dataset.job));
    node.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        select(node.dataset.job);
      }
    });
  }

  function applyFilter() {
    log.dataset.filter = filter.value;
    for (const line of log.children) line.hidden = filter.value !== '' && line.dataset.job !== filter.value;
  }
  filter.addEventListener('change', applyFilter);

  function appendLine(record) {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    const line = element('span', { class: 'line line--' + record.stream, 'data-job': record.job }, [
      element('span', { class: 'where' }, [
        record.job + '/' + record.step + (record.attempt > 1 ? '#' + record.attempt : ''),
      ]),
      ' ' + record.line + '\n',
    ]);
    line.hidden = filter.value !== '' && record.job !== filter.value;
    log.append(line);
    while (log.childElementCount > maxLines) log.firstElementChild.remove();
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  const events = new EventSource(api + '/events');
  events.addEventListener('status', (event) => {
    status = JSON.parse(event.data);
    if (!status.jobs[selected]) selected = defaultJob(status);
    render();
  });
  events.addEventListener('end', () => {
    events.close();
    document.body.dataset.runEnded = 'true';
  });

  const logs = new EventSource(api + '/logs?follow=1');
  logs.addEventListener('log', (event) => appendLine(JSON.parse(event.data)));
  logs.addEventListener('end', () => {
    logs.close();
    document.body.dataset.logEnded = 'true';
  });

  // Durations of running jobs and steps move on between events.
  setInterval(() => {
    if (status.status === 'running') {
      renderHead();
      renderDetail();
    }
  }, 1000);

  if (selected) filter.value = '';
  render();
})();
