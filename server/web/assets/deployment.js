// The Deployment page, live: follows the page's event stream (server-sent events, docs/control-plane.md) and, when
// the deployment moved on, fetches the page again and swaps in its content, so the buttons shown are always the
// ones that apply now, without reloading. Plain browser JavaScript, no build step.
'use strict';

(function () {
  const events = document.body.dataset.events;
  const pagePath = document.body.dataset.page;
  if (!events || !pagePath || typeof EventSource === 'undefined') return;
  let shown = document.body.dataset.fingerprint;
  let refreshing = false;
  let again = false;

  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const response = await fetch(pagePath, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (response.ok) {
        const fresh = new window.DOMParser().parseFromString(await response.text(), 'text/html');
        const main = document.querySelector('main');
        const freshMain = fresh.querySelector('main');
        if (main && freshMain) main.replaceChildren(...Array.from(freshMain.childNodes));
        shown = fresh.body.dataset.fingerprint;
        document.body.dataset.fingerprint = shown || '';
      }
    } catch {
      // the server restarts or the network blips: the next event tries again
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  }

  const source = new EventSource(events);
  source.addEventListener('changed', (event) => {
    const { fingerprint } = JSON.parse(event.data);
    if (fingerprint !== shown) void refresh();
  });
})();
