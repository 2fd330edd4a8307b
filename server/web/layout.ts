/** The frame of every page: header with navigation and the signed-in user, readable on a phone (server/web/). */
import type { Identity } from '../access-control';
import { html, type SafeHtml } from './html';

/** Who is looking, and the CSRF token their forms must carry. */
export interface Viewer {
  identity: Identity;
  csrfToken: string;
}

/** Navigation entries; an area adds its page here. */
export const navigation: { href: string; label: string }[] = [
  { href: '/runs', label: 'Runs' },
  { href: '/deployments', label: 'Deployments' },
];

/** A hidden CSRF field for a form. */
export function csrfField(viewer: Viewer): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${viewer.csrfToken}" />`;
}

/** A whole page. `script` names a file under /assets/. */
export function page(options: {
  title: string;
  viewer?: Viewer;
  current?: string;
  body: SafeHtml;
  script?: string;
  bodyData?: Record<string, string>;
}): string {
  const { viewer } = options;
  const data = Object.entries(options.bodyData ?? {}).map(([key, value]) => html` data-${key}="${value}"`);
  const nav = viewer
    ? html`<nav>
          ${navigation.map(
            (entry) =>
              html`<a href="${entry.href}" ${entry.href === options.current ? html` aria-current="page"` : ''}
                >${entry.label}</a
              >`,
          )}
        </nav>
        <form class="signout" method="post" action="/logout">
          ${csrfField(viewer)}<span class="who" title="${viewer.identity.groups.join(', ')}"
            >${viewer.identity.name}</span
          >
          <button type="submit" class="link">Sign out</button>
        </form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Conveyor</title>
<link rel="stylesheet" href="/assets/app.css">
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
${options.script ? html`<script src="/assets/${options.script}" defer></script>` : ''}
</head>
<body${data}>
<header class="top"><a class="brand" href="/">Conveyor</a>${nav}</header>
<main>
${options.body}
</main>
</body>
</html>
`.text;
}

/** A status as a coloured badge. */
export function badge(status: string, extra = ''): SafeHtml {
  return html`<span class="badge badge--${status}${extra ? ` ${extra}` : ''}">${status.replace(/_/g, ' ')}</span>`;
}

/** A duration between two ISO instants (or until now) as `1m 05s`. */
export function formatElapsed(start: string | undefined, end: string | undefined, now = Date.now()): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : now) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** A table that turns into labelled cards on a phone (cells carry `data-label`). */
export function responsiveTable(options: { headers: string[]; rows: SafeHtml[]; className?: string; id?: string }) {
  return html`<table
    class="responsive${options.className ? ` ${options.className}` : ''}"
    ${options.id ? html` id="${options.id}"` : ''}
  >
    <thead>
      <tr>
        ${options.headers.map((header) => html`<th>${header}</th>`)}
      </tr>
    </thead>
    <tbody>
      ${options.rows}
    </tbody>
  </table>`;
}
