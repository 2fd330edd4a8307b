/**
 * The `identities:` section of conveyor.config.yml: the people Conveyor knows and the groups approval gates name
 * (`approvers: [alice, group:release]`, docs/deployments.md#approvals). `conveyor serve` extends a user's entry
 * with tokens and roles.
 *
 * ```yaml
 * identities:
 *   users:
 *     alice: {}
 *     bob: {email: bob@example.com}
 *   groups:
 *     release: [bob, carol]
 * ```
 */
import { z } from 'zod';
import type { Groups } from '../deploy/approvals';

/** User and group names: letters, digits, `_`, `.`, `@` and `-`. */
export const identityNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;

const identityName = z.string().max(100).regex(identityNamePattern, 'expected letters, digits, and _ . @ -');

/** One known user. */
export const userSchema = z
  .strictObject({
    name: z.string().optional().meta({ description: 'Display name.' }),
    email: z.string().optional(),
  })
  .meta({ description: 'A user; an empty mapping ({}) is enough.' });

/** The `identities:` section. */
export const identitiesSchema = z
  .strictObject({
    users: z
      .record(
        identityName,
        z.union([userSchema, z.null()]).transform((user) => user ?? {}),
      )
      .optional()
      .meta({ description: 'Known users by name.' }),
    groups: z
      .record(identityName, z.array(identityName))
      .optional()
      .meta({ description: 'Groups by name: lists of user names (approval gates name them as group:NAME).' }),
  })
  .superRefine((identities, context) => {
    const users = identities.users;
    if (!users) return;
    for (const [group, members] of Object.entries(identities.groups ?? {})) {
      members.forEach((member, index) => {
        if (!Object.hasOwn(users, member)) {
          context.addIssue({
            code: 'custom',
            path: ['groups', group, index],
            message: `group '${group}' names '${member}', who is not under identities.users`,
            params: { code: 'schema', hint: `add ${member} to identities.users, or fix the name` },
          });
        }
      });
    }
  })
  .meta({ description: 'Users and groups, for approval gates and (with conveyor serve) API tokens.' });

/** The section as validated. */
export type Identities = z.output<typeof identitiesSchema>;

/** The groups approval gates may name, from the section (empty without one). */
export function approvalGroups(identities: Identities | undefined): Groups {
  return Object.fromEntries(Object.entries(identities?.groups ?? {}).map(([name, members]) => [name, [...members]]));
}
