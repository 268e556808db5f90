import { startGateway } from "../../bootstrap/gateway.js";
import type { CommandContext } from "../context.js";

/** `atomic serve`: runs the gateway until SIGINT or SIGTERM, then shuts down cleanly. */
export async function serveCommand({ config, logger }: CommandContext): Promise<number> {
  const gateway = await startGateway(config, logger, { guardEgress: true });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await gateway.close();
  return 0;
}
