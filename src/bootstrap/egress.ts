import type { AuditEvent } from "../audit/core/entry.js";
import { systemEvent } from "../audit/events.js";
import type { Config } from "../config/schema.js";
import { EgressAllowlist } from "../egress/allowlist.js";
import { installEgressGuard, type EgressDeniedError } from "../egress/guard.js";
import { probeEgress, type EgressSelfTest } from "../egress/self-test.js";
import type { Logger } from "../observability/logger.js";
import type { Metrics } from "../observability/metrics/interface.js";

/** strict mode found a way out of the network: the gateway does not start on such a host. */
export class EgressSelfTestError extends Error {
  override readonly name = "EgressSelfTestError";
}

/** The probe result, or null when egress.selfTest.mode is off. Logged here; audited by the caller. */
export async function runEgressSelfTest(config: Config, logger: Logger): Promise<EgressSelfTest | null> {
  const { mode, targets, timeoutMs } = config.egress.selfTest;
  if (mode === "off") return null;
  if (targets.length === 0) {
    logger.info("egress self-test skipped: no egress.selfTest.targets configured");
    return null;
  }
  const result = await probeEgress(targets, timeoutMs);
  if (result.egressPossible) logger.error({ probes: result.probes, mode }, "egress self-test: this host can reach outside its network");
  else logger.info({ probes: result.probes }, "egress self-test: no probe got out");
  return result;
}

export function egressSelfTestEvent(config: Config, result: EgressSelfTest): AuditEvent {
  const refused = result.egressPossible && config.egress.selfTest.mode === "strict";
  return systemEvent("startup.selftest", {
    outcome: { status: refused ? "refused" : "succeeded", ...(refused ? { code: "egress_possible" } : {}) },
    detail: { check: "egress", mode: config.egress.selfTest.mode, egressPossible: result.egressPossible, probes: result.probes },
  });
}

/** Throws in strict mode when a probe got out, after the caller has recorded the result. */
export function enforceEgressSelfTest(config: Config, result: EgressSelfTest | null): void {
  if (result?.egressPossible && config.egress.selfTest.mode === "strict") {
    const reached = result.probes.filter((p) => p.reached).map((p) => p.target).join(", ");
    throw new EgressSelfTestError(`egress self-test reached ${reached}: this host is not isolated; refusing to start (egress.selfTest.mode = strict)`);
  }
}

export interface ProcessEgressGuard {
  /** Audits refused attempts from now on (and no earlier: the log opens after the guard is installed). */
  auditTo(record: (event: AuditEvent) => Promise<void>): void;
  /** Lets one more `host:port` through: a destination known only once it has started (a dev server on a free port). */
  allow(destination: string): void;
}

/**
 * Installs the process-wide guard for `atomic serve` and `atomic worker`: the allowlist is the configured entries,
 * the database's own TCP address if it has one, and what the command adds (a worker's Temporal frontend). Refused
 * attempts are logged at once and audited once the log is open.
 */
export function guardProcessEgress(config: Config, logger: Logger, also: readonly string[] = [], metrics?: Pick<Metrics, "egressDenied">): ProcessEgressGuard {
  const database = databaseTcpAddress(config.database.url);
  const allowlist = new EgressAllowlist([...config.egress.allow, ...(database === null ? [] : [database]), ...also]);
  let record: ((event: AuditEvent) => Promise<void>) | null = null;
  installEgressGuard({
    allowlist,
    onDenied: (error: EgressDeniedError) => {
      logger.warn({ destination: error.destination, via: error.via }, "outbound connection refused by the egress guard");
      metrics?.egressDenied(error.via);
      void record?.(systemEvent("egress.denied", { outcome: { status: "refused", code: "egress_denied" }, detail: { destination: error.destination, via: error.via } }));
    },
  });
  logger.info({ allow: allowlist.toJSON() }, "egress guard installed");
  return {
    auditTo: (next) => void (record = next),
    allow: (destination) => {
      allowlist.add(destination);
      logger.info({ destination, allow: allowlist.toJSON() }, "egress guard: destination let through");
    },
  };
}

/** host:port of a postgres URL that connects over TCP; null for unix sockets and the embedded server. */
export function databaseTcpAddress(url: string | undefined): string | null {
  if (url === undefined) return null;
  const match = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^:/?#]*)(?::(\d+))?[^?#]*(?:\?([^#]*))?/.exec(url);
  if (match === null) return null;
  const params = new URLSearchParams(match[3] ?? "");
  const hostParam = params.get("host");
  const host = hostParam ?? decodeURIComponent(match[1] ?? "");
  if (host === "" || host.startsWith("/")) return null;
  const port = params.get("port") ?? match[2] ?? "5432";
  return `${host}:${port}`;
}
