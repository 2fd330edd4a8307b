/**
 * The web view's frame: static assets, `/` and signing in and out. Signing in takes an API token and keeps it in
 * an HTTP-only, `SameSite=Strict` cookie; the login form itself is protected from cross-site posting by a
 * double-submit cookie (no session exists yet to derive a CSRF token from).
 */
import { randomBytes } from 'node:crypto';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteArea } from '../app';
import { safeEqual, sessionCookie } from '../auth';
import { notFound } from '../http-errors';
import { loadAssets } from '../web/assets';
import { loginPage } from '../web/login-page';

const loginCookie = 'conveyor_login';
/** How long a browser session lasts (the token itself does not expire; revoke it to end every session). */
const sessionSeconds = 12 * 60 * 60;

/** Where to go after signing in: a path on this server only (never `//host` or an absolute URL). */
function safeNext(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) ? next : '/runs';
}

export const webRoutes: RouteArea = async (plainApp, { context }) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  const assets = loadAssets();

  app.get(
    '/assets/:name',
    { config: { access: 'public' }, schema: { hide: true, params: z.object({ name: z.string() }) } },
    async (request, reply) => {
      const asset = assets.get(request.params.name);
      if (!asset) throw notFound(`no asset '${request.params.name}'`);
      reply.header('etag', asset.etag).header('cache-control', 'no-cache');
      if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(asset.type).send(asset.body);
    },
  );

  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/runs', 303),
  );

  app.get(
    '/login',
    { config: { access: 'public' }, schema: { hide: true, querystring: z.object({ next: z.string().optional() }) } },
    async (request, reply) => {
      const csrfToken = request.cookies[loginCookie] ?? randomBytes(24).toString('base64url');
      reply.setCookie(loginCookie, csrfToken, {
        path: '/login',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
      });
      return reply.type('text/html; charset=utf-8').send(loginPage({ csrfToken, next: safeNext(request.query.next) }));
    },
  );

  app.post(
    '/login',
    {
      config: { access: 'public' },
      schema: {
        hide: true,
        body: z.object({
          token: z.string().max(500),
          _csrf: z.string().max(200),
          next: z.string().max(2000).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { token, _csrf: csrf } = request.body;
      const next = safeNext(request.body.next);
      const expected = request.cookies[loginCookie];
      const page = (status: number, error: string) => {
        const csrfToken = expected ?? randomBytes(24).toString('base64url');
        reply.setCookie(loginCookie, csrfToken, { path: '/login', httpOnly: true, sameSite: 'strict' });
        return reply.code(status).type('text/html; charset=utf-8').send(loginPage({ csrfToken, next, error }));
      };
      if (!expected || !safeEqual(csrf, expected)) return page(403, 'The form expired; please sign in again.');
      const identity = context.settings().access.identifyToken(token.trim());
      if (!identity) return page(401, 'That token is unknown or was revoked.');
      request.log.info({ user: identity.user }, 'signed in');
      reply.clearCookie(loginCookie, { path: '/login' });
      reply.setCookie(sessionCookie, token.trim(), {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: request.protocol === 'https',
        maxAge: sessionSeconds,
      });
      return reply.redirect(next, 303);
    },
  );

  app.post(
    '/logout',
    { config: { access: { role: 'viewer', page: true } }, schema: { hide: true } },
    async (_request, reply) => {
      reply.clearCookie(sessionCookie, { path: '/' });
      return reply.redirect('/login', 303);
    },
  );
};
