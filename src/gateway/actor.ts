import type { Context } from "hono";
import type { Actor } from "../store/interface.js";
import { remoteAddress } from "./middleware/auth/index.js";

/** The authenticated caller of this request, as executions and audit events record it. */
export function actorOf(c: Context): Actor {
  const { subject, tenant, tokenIdHash } = c.get("principal");
  const sourceAddress = remoteAddress(c);
  return { subject, tenant, tokenIdHash, ...(sourceAddress === undefined ? {} : { sourceAddress }) };
}
