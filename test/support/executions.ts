import { queryOnce } from "./database.js";

/** Executions stored in the database at `databaseUrl`: what a refused request must leave unchanged. */
export async function executionCount(databaseUrl: string): Promise<number> {
  return Number((await queryOnce<{ count: string }>(databaseUrl, "SELECT count(*) FROM executions"))[0]!.count);
}
