import type { ExpressionValue } from './expression-ast';

/** Truthiness: `null`, `false`, `0`, `NaN` and `''` are false; everything else, lists and mappings included, is true. */
export function isTruthy(value: ExpressionValue): boolean {
  if (value === null || value === false || value === '') return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  return true;
}

/** The text form of a value, as it appears when substituted into a string field. */
export function toText(value: ExpressionValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Numeric form used when types differ: null→0, booleans→0/1, strings parsed ('' → 0), others NaN. */
export function toNumber(value: ExpressionValue): number {
  if (value === null) return 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return value.trim() === '' ? 0 : Number(value);
  return Number.NaN;
}

/**
 * Equality as GitHub Actions defines it: strings compare ignoring case; values of different types are compared
 * as numbers; lists and mappings are equal only to themselves.
 */
export function looselyEqual(left: ExpressionValue, right: ExpressionValue): boolean {
  if (typeof left === 'string' && typeof right === 'string') return left.toLowerCase() === right.toLowerCase();
  if (typeof left === 'object' && left !== null) return left === right;
  if (typeof right === 'object' && right !== null) return false;
  if (typeof left === typeof right) return left === right;
  return toNumber(left) === toNumber(right);
}

/** Ordering for `< <= > >=`: strings ignoring case when both are strings, else numbers. NaN compares false. */
export function compare(left: ExpressionValue, right: ExpressionValue): number {
  if (typeof left === 'string' && typeof right === 'string') {
    const a = left.toLowerCase();
    const b = right.toLowerCase();
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const a = toNumber(left);
  const b = toNumber(right);
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.NaN;
  return a - b;
}
