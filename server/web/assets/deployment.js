// The Deployment page, live: polls the deployment's status (/api/deployments/:service/:environment, with the
// session cookie) every two seconds and reloads the page when the deployment moved on, so the buttons shown are
// always the ones that apply now. Plain browser JavaScript, no build step.
'use strict';

(function () {
  const api = document.body.dataset.deployment;
  const rendered = document.body.dataset.fingerprint;
  if (!api) return;

  function fingerprint(status) {
    return JSON.stringify([
      status.state,
      status.gate ? status.gate.name : null,
      status.gate ? status.gate.approvedBy : [],
      status.stable ? status.stable.version : null,
      status.canary ? status.canary.version : null,
      status.weights.canary,
      status.step ? status.step.index : null,
      status.held ? status.held.by : null,
      status.approvals.length,
    ]);
  }

  async function check() {
    try {
      const response = await fetch(api, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (response.ok && fingerprint(await response.json()) !== rendered) {
        location.reload();
        return;
      }
    } catch {
      // the server restarts or the network blips: try again on the next tick
    }
    setTimeout(check, 2000);
  }
  setTimeout(check, 2000);
})();
