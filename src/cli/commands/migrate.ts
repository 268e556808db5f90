import { openDatabase } from "../../bootstrap/database.js";
import type { CommandContext } from "../context.js";

/** `atomic migrate`: applies pending database migrations and exits (serve also does this at start). */
export async function migrateCommand({ config, logger, out }: CommandContext): Promise<number> {
  const database = await openDatabase(config, logger);
  await database.close();
  out("database is at the current schema");
  return 0;
}
