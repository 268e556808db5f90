import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The peer gateways the side-by-side bench runs, pinned (scripts/install-peers.mjs installs them; the bench only
 * runs what is installed). LiteLLM: 1.106.12, the last release before the withdrawn 1.107.0; the later ones that the
 * package index offers here name `litellm-proxy` or `litellm-proxy-extras` versions it does not have.
 */
export const PEERS = {
  litellm: { version: "1.106.12" },
  portkey: { version: "1.15.2" },
};

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Where a peer lives: its folder, the file that proves it is there, and the marker of its installed version. */
export function peerPaths(name) {
  const home = resolve(process.env.ATOMIC_PEERS_HOME ?? join(repoRoot, ".tools", "peers"));
  const dir = join(home, name);
  const entry = name === "litellm" ? join(dir, "bin", "litellm") : join(dir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
  return { home, dir, entry, marker: join(dir, "atomic-installed.json") };
}
