import pg from "pg";

/** Executions stored in the database at `databaseUrl`: what a refused request must leave unchanged. */
export async function executionCount(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ count: string }>("SELECT count(*) FROM executions")).rows[0]!.count);
  } finally {
    await client.end();
  }
}
