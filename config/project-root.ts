/**
 * Where Conveyor's project directory is, whether the code runs from its TypeScript sources (tsx, the tests) or
 * from the compiled JavaScript in `dist/` (`bin/conveyor`, the worker of `conveyor dev up`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The nearest directory at or above `from` that holds a `package.json`. */
export function findProjectRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return path.resolve(from, '..');
}

/** The project directory (the one holding Conveyor's package.json). */
export const projectRoot = findProjectRoot(__dirname);

/** Conveyor's version, from package.json. */
export function conveyorVersion(): string {
  return (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
}
