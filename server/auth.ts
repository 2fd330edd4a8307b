/**
 * Authentication and authorisation, as one Fastify plugin every route declares it needs (docs/control-plane.md).
 *
 * Every route states `config: { access: … }`: `'public'`, or the role it needs (for runs, or in the environment a
 * request names). A route without a declaration makes the server refuse to start, so nothing is open by omission.
 * Callers present an API token as `Authorization: Bearer …` or, in the browser, as the HTTP-only `SameSite=Strict`
 * session cookie set at login; a state-changing request that rides on the cookie must also carry the session's
 * CSRF token (form field `_csrf` or header `X-CSRF-Token`). Tokens are never logged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, preValidationHookHandler } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { Role } from '../config/access';
import type { Identity } from './access-control';
import type { ConfigSnapshot } from './config-source';
import { forbidden, unauthorized } from './http-errors';

/** What a route needs: nothing, or a role for runs / in the environment `environment(request)` names. */
export type AccessRule =
  | 'public'
  | {
      role: Role;
      /** The deployment environment the request acts on; runs have none. */
      environment?: (request: FastifyRequest) => string | undefined;
      /** The role in any one environment suffices (lists, which then show only what the caller may see). */
      anywhere?: boolean;
      /** A page: an anonymous visitor is sent to the login page instead of getting 401. */
      page?: boolean;
    };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    /** The authenticated caller (set on every non-public route). */
    identity?: Identity;
    /** The session's CSRF token when the caller came with the session cookie (for forms on pages). */
    csrfToken?: string;
  }
}

/** The session cookie's name. */
export const sessionCookie = 'conveyor_session';

/** The CSRF token of a session: derived from its API token, so the server keeps nothing and a page cannot guess it. */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('conveyor-csrf').digest('base64url');
}

/** Constant-time string equality (different lengths are unequal without a timing hint about the content). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const unsafeMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The plugin: checks every route's declaration at registration and enforces it before validation. */
export const authPlugin = fastifyPlugin<{ settings: () => ConfigSnapshot }>(
  async (app, { settings }) => {
    app.addHook('onRoute', (route) => {
      const rule = route.config?.access;
      if (!rule) {
        throw new Error(`route ${String(route.method)} ${route.url} declares no access rule (config.access)`);
      }
      if (rule === 'public') return;
      const check: preValidationHookHandler = (request, reply, done) => {
        try {
          authorise(request, rule, settings());
          done();
        } catch (error) {
          if (rule.page && (error as { statusCode?: number }).statusCode === 401) {
            void redirectToLogin(request, reply);
            return;
          }
          done(error as Error);
        }
      };
      const existing = route.preValidation;
      route.preValidation = [check, ...(Array.isArray(existing) ? existing : existing ? [existing] : [])];
    });
  },
  { name: 'conveyor-auth' },
);

function authorise(request: FastifyRequest, rule: Exclude<AccessRule, 'public'>, current: ConfigSnapshot): void {
  const header = request.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
  const cookie = bearer ? undefined : request.cookies?.[sessionCookie];
  const token = bearer ?? cookie;
  if (!token) {
    throw unauthorized('no API token: send "Authorization: Bearer <token>" (create one with conveyor token create)');
  }
  const identity = current.access.identifyToken(token);
  if (!identity) throw unauthorized('unknown or revoked API token');
  if (cookie) {
    const expected = csrfTokenFor(cookie);
    request.csrfToken = expected;
    if (unsafeMethods.has(request.method)) {
      const sent = request.headers['x-csrf-token'] ?? (request.body as { _csrf?: unknown } | undefined)?._csrf;
      if (typeof sent !== 'string' || !safeEqual(sent, expected)) {
        throw forbidden('missing or wrong CSRF token; reload the page and try again');
      }
      if (request.body && typeof request.body === 'object') delete (request.body as { _csrf?: unknown })._csrf;
    }
  }
  request.identity = identity;
  const environment = rule.environment?.(request);
  const allowed = rule.anywhere
    ? current.access.allowsAnywhere(identity.user, rule.role)
    : current.access.allows(identity.user, rule.role, environment);
  if (!allowed) {
    throw forbidden(
      `${identity.user} lacks the '${rule.role}' role${environment ? ` in environment '${environment}'` : ''}`,
      { missingRole: rule.role, ...(environment ? { environment } : {}) },
    );
  }
}

function redirectToLogin(request: FastifyRequest, reply: FastifyReply) {
  return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
}
