/**
 * A mistake in how the command was called that only the command itself can see (a model that is not pinned, two
 * options that exclude each other): printed in one line with the command's usage, without a stack, exit code 2.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
