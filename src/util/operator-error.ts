/**
 * An error whose message alone tells an operator what is wrong and what to do (a server that cannot be reached, a
 * data directory another process holds): the CLI prints it as one line, without a stack. A base class of its own,
 * so the CLI can recognise these without importing the modules that throw them.
 */
export class OperatorError extends Error {}
