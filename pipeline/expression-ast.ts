/** A literal or computed value of the expression language: plain JSON. */
export type ExpressionValue = null | boolean | number | string | ExpressionValue[] | { [key: string]: ExpressionValue };

/** A node of a parsed expression; `offset` is where it starts in the source. */
export type ExpressionNode =
  | { type: 'literal'; value: null | boolean | number | string; offset: number }
  | { type: 'context'; name: string; offset: number }
  | { type: 'member'; object: ExpressionNode; property: ExpressionNode; offset: number }
  | { type: 'call'; name: string; args: ExpressionNode[]; offset: number }
  | { type: 'not'; operand: ExpressionNode; offset: number }
  | {
      type: 'binary';
      operator: '==' | '!=' | '<' | '<=' | '>' | '>=';
      left: ExpressionNode;
      right: ExpressionNode;
      offset: number;
    }
  | { type: 'logical'; operator: '&&' | '||'; left: ExpressionNode; right: ExpressionNode; offset: number };
