/**
 * API tokens: made at random, shown once, stored in `conveyor.config.yml` only as their SHA-256 digest
 * (docs/control-plane.md). A token is `cvy_` and 43 base64url characters (256 random bits), so a plain digest is as
 * strong as a slow hash would be, and a leaked config file reveals no token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { isMap, isSeq, parseDocument } from 'yaml';
import { closestMatch } from '../pipeline/did-you-mean';
import { parseConfigFile } from './config-file';
import type { TokenEntry } from './access';

/** The prefix every Conveyor token starts with (secret scanners and people recognise it). */
export const tokenPrefix = 'cvy_';

/** The hex SHA-256 digest under which a token is stored. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token and the entry that records it (never the token itself). */
export function newToken(user: string, description?: string): { token: string; entry: TokenEntry } {
  const token = `${tokenPrefix}${randomBytes(32).toString('base64url')}`;
  const entry: TokenEntry = {
    id: `tok_${ulid().toLowerCase()}`,
    user,
    sha256: tokenDigest(token),
    created: new Date().toISOString(),
    ...(description ? { description } : {}),
  };
  return { token, entry };
}

/** A token could not be added to or removed from the configuration file. */
export class TokenConfigError extends Error {
  override name = 'TokenConfigError';
}

/**
 * Creates a token for `user` and appends its entry to `access.tokens` in `file` (created when missing), keeping the
 * file's comments and layout. The user must be defined under `access.users`. Returns the token: the only copy.
 */
export function createTokenInFile(file: string, user: string, description?: string): { token: string; id: string } {
  const document = parseDocument(existsSync(file) ? readFileSync(file, 'utf8') : '');
  if (document.errors.length > 0) throw new TokenConfigError(`${file}: ${document.errors[0]!.message}`);
  const current = parseConfigFile(document.toString(), file);
  const users = Object.keys(current.access?.users ?? {});
  if (!users.includes(user)) {
    const guess = closestMatch(user, users);
    throw new TokenConfigError(
      `no user '${user}' under access.users in ${file}${guess ? ` (did you mean '${guess}'?)` : ''}; add it with ` +
        `its roles first, e.g. access: {users: {${user}: {roles: [viewer]}}}`,
    );
  }
  const { token, entry } = newToken(user, description);
  if (!isSeq(document.getIn(['access', 'tokens']))) document.setIn(['access', 'tokens'], document.createNode([]));
  document.addIn(['access', 'tokens'], document.createNode(entry));
  writeAtomically(file, document.toString({ flowCollectionPadding: false }));
  return { token, id: entry.id };
}

/** Removes the token with `id` from `file`; returns its user. */
export function revokeTokenInFile(file: string, id: string): string {
  if (!existsSync(file)) throw new TokenConfigError(`${file} does not exist, so it holds no token '${id}'`);
  const document = parseDocument(readFileSync(file, 'utf8'));
  const tokens = document.getIn(['access', 'tokens']);
  const items = isSeq(tokens) ? tokens.items : [];
  const index = items.findIndex((item) => isMap(item) && item.get('id') === id);
  if (index < 0) throw new TokenConfigError(`no token '${id}' in ${file} (list them with 'conveyor token list')`);
  const user = String((items[index] as { get(key: string): unknown }).get('user'));
  document.deleteIn(['access', 'tokens', index]);
  writeAtomically(file, document.toString({ flowCollectionPadding: false }));
  return user;
}

/** Writes through a temporary file and a rename, so a reader (the server) never sees half a file. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: 0o600 });
  renameSync(temporary, file);
}
