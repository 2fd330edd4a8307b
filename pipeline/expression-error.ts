/** A problem in an expression, located by its character offset in the expression source. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';

  constructor(
    message: string,
    /** 0-based character offset in the expression source. */
    readonly offset: number,
  ) {
    super(message);
  }
}
