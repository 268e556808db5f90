import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigSchema, type Config } from "./schema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export interface LoadConfigOptions {
  /** Explicit file (--config); else ATOMIC_CONFIG; else ./atomic.config.json when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values that win over both (tests, CLI flags). */
  overrides?: Record<string, unknown>;
}

function envName(path: string[]): string {
  return ["ATOMIC", ...path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2"))].join("_").toUpperCase();
}

/** Every leaf key of the schema with its path, so each can be fed from its environment variable. */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) {
    inner = inner.unwrap() as z.ZodType;
  }
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
  }
  return [prefix];
}

const LEAVES = leafPaths(ConfigSchema);

/** Environment values are strings; numbers and booleans are written as JSON literals ("8080", "true"). */
function parseEnvValue(raw: string): unknown {
  if (/^(-?\d+(\.\d+)?|true|false)$/.test(raw)) return JSON.parse(raw);
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === "object" && next !== null ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = typeof value === "object" && value !== null && !Array.isArray(value) && typeof current === "object" && current !== null
      ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
      : value;
  }
  return out;
}

/**
 * Reads the file, then the environment, then overrides, and validates the result. An invalid value stops the
 * process at start with an error that names the key and where it came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.ATOMIC_CONFIG ?? (existsSync("atomic.config.json") ? "atomic.config.json" : undefined);
  let fromFile: Record<string, unknown> = {};
  if (file) {
    try {
      fromFile = JSON.parse(readFileSync(resolve(file), "utf8")) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigError(`config file ${file}: ${(error as Error).message}`);
    }
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) {
      throw new ConfigError(`config file ${file}: must hold a JSON object`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const path of LEAVES) {
    const name = envName(path);
    const raw = env[name];
    if (raw !== undefined && raw !== "") {
      setPath(fromEnv, path, parseEnvValue(raw));
      sources.set(path.join("."), `environment variable ${name}`);
    }
  }
  if (env.DATABASE_URL && !env.ATOMIC_DATABASE_URL) {
    setPath(fromEnv, ["database", "url"], env.DATABASE_URL);
    sources.set("database.url", "environment variable DATABASE_URL");
  }
  const merged = deepMerge(deepMerge(fromFile, fromEnv), options.overrides ?? {});
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = issue.path.join(".") || "(root)";
      // An item of a list (server.cors.origins.0) comes from wherever the list came from.
      const listed = issue.path.map((_, i) => issue.path.slice(0, issue.path.length - i).join(".")).find((path) => sources.has(path));
      const source = (listed === undefined ? undefined : sources.get(listed)) ?? (file ? `config file ${file}` : "defaults");
      const unknownKeys = issue.code === "unrecognized_keys" ? ` (${issue.keys.map((k) => [...issue.path, k].join(".")).join(", ")})` : "";
      return `  ${key}${unknownKeys}: ${issue.message} [from ${source}]`;
    });
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
