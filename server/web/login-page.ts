/** The sign-in page: paste an API token (made with `conveyor token create USER`). */
import { html } from './html';
import { page } from './layout';

export function loginPage(options: { csrfToken: string; next: string; error?: string }): string {
  return page({
    title: 'Sign in',
    body: html`<section class="card narrow">
      <h1>Sign in</h1>
      <p>Paste your API token. An administrator makes one with <code>conveyor token create USER</code>.</p>
      ${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="_csrf" value="${options.csrfToken}" />
        <input type="hidden" name="next" value="${options.next}" />
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          required
          spellcheck="false"
          placeholder="cvy_…"
        />
        <button type="submit" class="primary">Sign in</button>
      </form>
    </section>`,
  });
}
