/**
 * What the peers bench measures, each started in a process of its own on 127.0.0.1 and answering the same chat
 * completion body (model "mock"):
 *   - the mock OpenAI upstream itself (the baseline every gateway's added latency is measured against);
 *   - Atomic with its no-op engine (no upstream: its "model" answers in-process), audit on, durable records;
 *   - LiteLLM's proxy and Portkey's gateway, as installed by scripts/install-peers.mjs, in front of the mock.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PEERS, peerPaths } from "../../../scripts/lib/peers.mjs";
import { childProcessEntry } from "../../../src/util/sibling-entry.js";
import { client, type Endpoint } from "./load.js";
import { freeLoopbackPort, loopbackEnvironment, startProcess, waitUntilReady, type Started } from "./processes.js";

export const MODEL = "mock";
const CHAT = "/v1/chat/completions";
/** LiteLLM imports several hundred modules before it listens: about 10 s on 2 vCPUs, more under load. */
const PEER_START_TIMEOUT_MS = 180_000;

export interface Target {
  name: string;
  endpoint: Endpoint;
  stop(): Promise<void>;
}

export type PeerName = keyof typeof PEERS;

/** The peer's installed version, or undefined when scripts/install-peers.mjs has not installed its pinned one. */
export function installedPeer(name: PeerName): string | undefined {
  const paths = peerPaths(name);
  try {
    const { version } = JSON.parse(readFileSync(paths.marker, "utf8")) as { version: string };
    return version === PEERS[name].version && existsSync(paths.entry) ? version : undefined;
  } catch {
    return undefined;
  }
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Started, then stopped again if `ready` fails, so that a failed start leaves nothing running. */
async function ready<T>(started: Started, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** A real request through the target, answered 200: listening is not enough (LiteLLM listens before its router). */
function answers(endpoint: Endpoint, body: string): () => Promise<boolean> {
  return async () => {
    const one = client(endpoint, body, 1);
    try {
      return (await one.send()) === 200;
    } finally {
      one.close();
    }
  };
}

export async function startMockUpstream(workDir: string): Promise<Target & { url: string }> {
  const started = startProcess("mock upstream", process.execPath, [here("./mock-upstream.mjs")], { env: loopbackEnvironment({}), cwd: workDir });
  const { url } = await ready(started, () => started.firstJsonLine<{ url: string }>(15_000));
  return { name: "mock upstream (direct)", url, endpoint: { url, path: CHAT, headers: {} }, stop: () => started.stop() };
}

/** Atomic's gateway over its no-op engine (test/bench/peers/atomic-noop.ts): through tsx, or compiled beside this one. */
export async function startAtomic(options: { databaseUrl: string; dataDir: string; workDir: string; model?: string }): Promise<Target> {
  const noop = childProcessEntry(import.meta.url, "atomic-noop");
  const started = startProcess("Atomic", process.execPath, [...noop.execArgv, noop.path], {
    env: loopbackEnvironment({ ATOMIC_BENCH_NOOP: JSON.stringify({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, model: options.model ?? MODEL }) }),
    cwd: options.workDir,
  });
  const { url, key } = await ready(started, () => started.firstJsonLine<{ url: string; key: string }>(60_000));
  return { name: "Atomic", endpoint: { url, path: CHAT, headers: { authorization: `Bearer ${key}` } }, stop: () => started.stop() };
}

/**
 * LiteLLM's proxy, one worker (its default), with a master key (it refuses to start without one) and one model
 * routed to the mock. Nothing may leave the machine: the model cost map is read from the package
 * (LITELLM_LOCAL_MODEL_COST_MAP; otherwise it is fetched at import), telemetry is off, tokenizers are the bundled
 * ones, no database, no callbacks; the working directory is a fresh folder, so no .env is read.
 */
export async function startLiteLLM(options: { mockUrl: string; workDir: string; body: string }): Promise<Target> {
  const paths = peerPaths("litellm");
  const port = await freeLoopbackPort();
  const masterKey = `sk-${randomBytes(32).toString("hex")}`;
  const config = join(options.workDir, "litellm.yaml");
  // YAML is a superset of JSON: no YAML writer needed.
  writeFileSync(config, JSON.stringify({
    model_list: [{ model_name: MODEL, litellm_params: { model: `openai/${MODEL}`, api_base: `${options.mockUrl}/v1`, api_key: "sk-mock" } }],
    litellm_settings: { telemetry: false },
    general_settings: { master_key: masterKey },
  }, null, 2));
  const started = startProcess("LiteLLM", paths.entry, ["--config", config, "--host", "127.0.0.1", "--port", String(port), "--num_workers", "1"], {
    env: loopbackEnvironment({ LITELLM_LOCAL_MODEL_COST_MAP: "True", LITELLM_TELEMETRY: "False", LITELLM_LOG: "ERROR", PYTHONUNBUFFERED: "1", NO_COLOR: "1" }),
    cwd: options.workDir,
  });
  const endpoint: Endpoint = { url: `http://127.0.0.1:${port}`, path: CHAT, headers: { authorization: `Bearer ${masterKey}` } };
  await ready(started, () => waitUntilReady(started, answers(endpoint, options.body), PEER_START_TIMEOUT_MS));
  return { name: "LiteLLM", endpoint, stop: () => started.stop() };
}

/**
 * Portkey's open-source gateway as published (build/start-server.js), headless and in production mode (no
 * console UI, no log streaming to it), bound to 127.0.0.1 by a preload (it has no host option). The mock is named
 * per request as an OpenAI-compatible custom host, the way Portkey routes to a self-hosted upstream.
 */
export async function startPortkey(options: { mockUrl: string; workDir: string; body: string }): Promise<Target> {
  const paths = peerPaths("portkey");
  const port = await freeLoopbackPort();
  const started = startProcess("Portkey", process.execPath, ["--import", here("./loopback-only.mjs"), paths.entry, `--port=${port}`, "--headless"], {
    env: loopbackEnvironment({ NODE_ENV: "production" }),
    cwd: options.workDir,
  });
  const endpoint: Endpoint = {
    url: `http://127.0.0.1:${port}`,
    path: CHAT,
    headers: { authorization: "Bearer sk-mock", "x-portkey-provider": "openai", "x-portkey-custom-host": `${options.mockUrl}/v1` },
  };
  await ready(started, () => waitUntilReady(started, answers(endpoint, options.body), PEER_START_TIMEOUT_MS));
  return { name: "Portkey", endpoint, stop: () => started.stop() };
}
