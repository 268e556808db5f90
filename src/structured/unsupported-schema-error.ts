/**
 * A schema the grammar compiler cannot turn into a strict grammar. `pointer` is the JSON pointer of the offending
 * schema inside the document ("" for the root) and `keyword` the keyword at fault, so a client can fix exactly that.
 */
export class UnsupportedSchemaError extends Error {
  override readonly name = "UnsupportedSchemaError";

  constructor(
    readonly pointer: string,
    readonly keyword: string,
    /** What is wrong, without the location: the message adds keyword and pointer. */
    readonly reason: string,
  ) {
    super(`"${keyword}" at #${pointer}: ${reason}`);
  }
}
