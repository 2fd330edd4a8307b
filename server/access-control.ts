/**
 * Who a request is and what it may do (docs/control-plane.md): tokens and Slack user ids map to users of the
 * `access:` section; a user's roles are their own plus their groups', everywhere plus per environment.
 */
import type { AccessSettings, Role } from '../config/access';
import { tokenDigest } from '../config/access-tokens';

/** The caller behind a request. */
export interface Identity {
  user: string;
  /** Display name. */
  name: string;
  groups: string[];
}

/** Roles that include others: every role may view. */
const implied: Record<Role, Role[]> = { viewer: [], operator: ['viewer'], approver: ['viewer'] };

/** Identities and roles, from one version of the configuration file. */
export class AccessControl {
  private readonly byDigest: Map<string, string>;
  private readonly bySlackId: Map<string, string>;

  constructor(private readonly settings: AccessSettings) {
    this.byDigest = new Map(settings.tokens.map((token) => [token.sha256, token.user]));
    this.bySlackId = new Map(
      Object.entries(settings.users).flatMap(([user, entry]) => (entry.slack ? [[entry.slack, user]] : [])),
    );
  }

  /** Whether any user is configured (a server without users refuses every authenticated request). */
  get hasUsers(): boolean {
    return Object.keys(this.settings.users).length > 0;
  }

  /** The user a token belongs to; looked up by digest, so no comparison ever touches a stored secret. */
  identifyToken(token: string): Identity | undefined {
    const user = this.byDigest.get(tokenDigest(token));
    return user ? this.identity(user) : undefined;
  }

  /** The user a Slack user id is mapped to. */
  identifySlackUser(slackUserId: string): Identity | undefined {
    const user = this.bySlackId.get(slackUserId);
    return user ? this.identity(user) : undefined;
  }

  /** A configured user by name. */
  identity(user: string): Identity | undefined {
    const entry = this.settings.users[user];
    if (!entry) return undefined;
    return { user, name: entry.name ?? user, groups: entry.groups };
  }

  /** The user's roles for runs (`environment` undefined) or for the deployments of one environment. */
  roles(user: string, environment?: string): Set<Role> {
    const entry = this.settings.users[user];
    const roles = new Set<Role>();
    if (!entry) return roles;
    const sources = [entry, ...entry.groups.flatMap((group) => this.settings.groups[group] ?? [])];
    for (const source of sources) {
      for (const role of source.roles) roles.add(role);
      if (environment !== undefined) for (const role of source.environments[environment] ?? []) roles.add(role);
    }
    for (const role of [...roles]) for (const more of implied[role]) roles.add(more);
    return roles;
  }

  /** Whether the user holds `role` (for runs, or in `environment`). */
  allows(user: string, role: Role, environment?: string): boolean {
    return this.roles(user, environment).has(role);
  }

  /** Environments the user has roles of their own in (through their user entry or groups). */
  environments(user: string): string[] {
    const entry = this.settings.users[user];
    if (!entry) return [];
    const sources = [entry, ...entry.groups.flatMap((group) => this.settings.groups[group] ?? [])];
    return [...new Set(sources.flatMap((source) => Object.keys(source.environments)))];
  }

  /** Whether the user holds `role` everywhere or in at least one environment. */
  allowsAnywhere(user: string, role: Role): boolean {
    return (
      this.allows(user, role) || this.environments(user).some((environment) => this.allows(user, role, environment))
    );
  }

  /** Users holding `role` in `environment`, e.g. to say in a Slack message who may approve. */
  usersWith(role: Role, environment?: string): string[] {
    return Object.keys(this.settings.users).filter((user) => this.allows(user, role, environment));
  }
}
