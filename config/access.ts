/**
 * The `access:` section of `conveyor.config.yml`: who may use the control plane (docs/control-plane.md).
 *
 * ```yaml
 * access:
 *   users:
 *     alice: {groups: [release], slack: U0ALICE01, roles: [operator]}
 *     bob: {roles: [viewer], environments: {staging: [operator, approver]}}
 *   groups:
 *     release: {environments: {production: [approver]}}
 *   tokens:
 *     - {id: tok_01j9…, user: alice, sha256: 3f5c…, created: '2025-01-01T00:00:00.000Z'}
 * ```
 *
 * `roles` hold everywhere (runs and every environment); `environments.NAME` adds roles for the deployments of one
 * environment. Tokens are stored only as SHA-256 digests (`conveyor token create USER` shows the token once).
 */
import { z } from 'zod';
import { closestMatch } from '../pipeline/did-you-mean';

/** What a user may do: `viewer` reads, `operator` starts/cancels/reruns/promotes/aborts, `approver` decides gates. */
export const roleSchema = z.enum(['viewer', 'operator', 'approver']);
export type Role = z.output<typeof roleSchema>;

const nameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,62}$/, 'use lower-case letters, digits, ".", "_" or "-", starting with a letter');

const rolesSchema = z.array(roleSchema).default([]).meta({ description: 'Roles in every environment and for runs.' });

const environmentRolesSchema = z
  .record(z.string().min(1), z.array(roleSchema))
  .default({})
  .meta({ description: 'Extra roles per deployment environment, e.g. {production: [approver]}.' });

const userSchema = z.strictObject({
  name: z.string().optional().meta({ description: 'Display name (default: the user id).' }),
  groups: z.array(nameSchema).default([]),
  slack: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id looks like U0123ABCD')
    .optional()
    .meta({ description: 'Slack user id whose button presses act as this user.' }),
  roles: rolesSchema,
  environments: environmentRolesSchema,
});

const groupSchema = z.strictObject({
  roles: rolesSchema,
  environments: environmentRolesSchema,
});

const tokenSchema = z.strictObject({
  id: z.string().regex(/^tok_[a-z0-9]+$/, 'a token id looks like tok_01j9…'),
  user: nameSchema,
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'the SHA-256 digest of the token, 64 hex digits (conveyor token create writes it)'),
  created: z.string().optional(),
  description: z.string().optional(),
});
export type TokenEntry = z.output<typeof tokenSchema>;

/** The whole `access:` section. */
export const accessSchema = z
  .strictObject({
    users: z.record(nameSchema, userSchema).default({}),
    groups: z.record(nameSchema, groupSchema).default({}),
    tokens: z.array(tokenSchema).default([]),
  })
  .superRefine((access, context) => {
    const groupNames = Object.keys(access.groups);
    const userNames = Object.keys(access.users);
    const slackOwners = new Map<string, string>();
    for (const [userName, user] of Object.entries(access.users)) {
      user.groups.forEach((group, index) => {
        if (access.groups[group]) return;
        const guess = closestMatch(group, groupNames);
        context.addIssue({
          code: 'custom',
          path: ['users', userName, 'groups', index],
          message: `unknown group '${group}'${guess ? ` (did you mean '${guess}'?)` : ''}; define it under access.groups`,
        });
      });
      if (user.slack) {
        const owner = slackOwners.get(user.slack);
        if (owner) {
          context.addIssue({
            code: 'custom',
            path: ['users', userName, 'slack'],
            message: `Slack user ${user.slack} is already mapped to '${owner}'; one Slack user is one Conveyor user`,
          });
        }
        slackOwners.set(user.slack, userName);
      }
    }
    const ids = new Set<string>();
    access.tokens.forEach((token, index) => {
      if (!access.users[token.user]) {
        const guess = closestMatch(token.user, userNames);
        context.addIssue({
          code: 'custom',
          path: ['tokens', index, 'user'],
          message: `unknown user '${token.user}'${guess ? ` (did you mean '${guess}'?)` : ''}; define it under access.users`,
        });
      }
      if (ids.has(token.id)) {
        context.addIssue({ code: 'custom', path: ['tokens', index, 'id'], message: `token id '${token.id}' repeats` });
      }
      ids.add(token.id);
    });
  })
  .meta({ description: 'Users, groups, API tokens (as SHA-256 digests) and roles per environment.' });

/** The validated `access:` section. */
export type AccessSettings = z.output<typeof accessSchema>;
