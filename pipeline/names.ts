/** Name rules of the pipeline language, shared by the schema modules. */

/** Job names: a letter, then letters, digits, `_` or `-`; at most 63 characters. */
export const jobNamePattern = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
/** Longest allowed job name. */
export const maxJobNameLength = 63;
/** Environment variable names. */
export const variableNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
