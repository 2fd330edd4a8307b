/**
 * The groups approval gates name (`approvers: [alice, group:release]`, docs/deployments.md#approvals), read from
 * the `access:` section of conveyor.config.yml, the one place people and their groups are defined (config/access.ts):
 * a group's members are the users who list it under their `groups`.
 */
import type { Groups } from '../deploy/approvals';
import type { ConfigFile } from './config-file';

/** Group name → member user names, from `access.users[*].groups` (empty without an access section). */
export function approvalGroups(file: Pick<ConfigFile, 'access'>): Groups {
  const groups: Groups = {};
  for (const name of Object.keys(file.access?.groups ?? {})) groups[name] = [];
  for (const [user, settings] of Object.entries(file.access?.users ?? {})) {
    for (const group of settings.groups) (groups[group] ??= []).push(user);
  }
  return groups;
}
