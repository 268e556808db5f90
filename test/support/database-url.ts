/**
 * Replaces the database in a postgres:// URL. Done on the text because the embedded server's URL
 * (postgresql://atomic@/atomic?host=/path) has an empty host, which the WHATWG URL parser rejects.
 */
export function withDatabase(url: string, database: string): string {
  const match = /^(postgres(?:ql)?:\/\/[^/?#]*)(\/[^?#]*)?(.*)$/.exec(url);
  if (match === null) throw new Error("DATABASE_URL must be a postgres:// or postgresql:// URL");
  return `${match[1] ?? ""}/${database}${match[3] ?? ""}`;
}
