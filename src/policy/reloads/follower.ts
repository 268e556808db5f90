import type { AuditEvent } from "../../audit/core/entry.js";
import { systemEvent } from "../../audit/events.js";
import type { Logger } from "../../observability/logger.js";
import type { PolicyStore, ReloadResult } from "../store.js";
import type { PolicyReload, PolicyReloadLog } from "./interface.js";
import { SerialRefresher } from "../../util/serial-refresher.js";

/** Who a follower's reloads are recorded as. */
export const POLICY_FOLLOWER = "atomic:policy-follow";

/**
 * A policy reload in force on every gateway of the database. The gateway asked (POST /v1/admin/policy/reload)
 * reloads its folder and, when the set validates, announces it (PolicyReloadLog, with its audit event); every other
 * gateway reads the log every policy.reloadRefreshMs and reloads its own folder when a newer reload appears, audited
 * as `policy.reloaded` by atomic:policy-follow, saying whether its set is the one announced. A folder that gives
 * another set, or none that validates, keeps serving what it had or loaded and says so in one warning: policy
 * folders are each gateway's own files, which the site keeps alike.
 */
export class PolicyFollower {
  /** The newest reload this gateway has acted on (or was there when it started, its folder read then). */
  private seen: number;
  /** Writes and refreshes one at a time: a refresh never undoes a change it raced with. */
  private readonly serial = new SerialRefresher(() => this.refresh());
  private reported = false;

  private constructor(
    private readonly store: PolicyStore,
    private readonly log: PolicyReloadLog,
    private readonly record: (event: AuditEvent) => Promise<void>,
    private readonly logger: Logger,
    latest: PolicyReload | null,
  ) {
    this.seen = latest?.id ?? 0;
  }

  static async open(store: PolicyStore, log: PolicyReloadLog, record: (event: AuditEvent) => Promise<void>, logger: Logger): Promise<PolicyFollower> {
    return new PolicyFollower(store, log, record, logger, await log.latest());
  }

  /**
   * An operator's reload that validated here: announced to the other gateways, its audit event (made by `describe`)
   * in the same transaction. This gateway does not follow its own announcement.
   */
  announce(requestedBy: string, result: Extract<ReloadResult, { ok: true }>, describe: (written: PolicyReload) => AuditEvent): Promise<PolicyReload> {
    return this.serial.serially(async () => {
      const written = await this.log.announce({ requestedBy, policySetHash: result.policySetHash }, describe);
      this.seen = Math.max(this.seen, written.id);
      return written;
    });
  }

  /** Reloads this gateway's folder if another gateway announced a reload since; errors are logged, not thrown. */
  refresh(): Promise<void> {
    return this.serial.serially(async () => {
      let latest: PolicyReload | null;
      try {
        latest = await this.log.latest();
      } catch (error) {
        if (!this.reported) this.logger.warn({ err: error }, "policy reloads could not be read; trying again at the next refresh");
        this.reported = true;
        return;
      }
      this.reported = false;
      if (latest === null || latest.id <= this.seen) return;
      this.seen = latest.id;
      await this.follow(latest);
    });
  }

  refreshEvery(intervalMs: number): void {
    this.serial.every(intervalMs);
  }

  stop(): Promise<void> {
    return this.serial.stop();
  }

  private async follow(reload: PolicyReload): Promise<void> {
    const result = this.store.reload();
    const following = { reload: reload.id, requestedBy: reload.requestedBy, announcedHash: reload.policySetHash };
    const actor = { subject: POLICY_FOLLOWER };
    if (!result.ok) {
      this.logger.warn({ ...following, activeHash: result.policySetHash, problems: result.error.problems }, "policy reload announced by another gateway: this gateway's policy set was refused; the active one stays");
      await this.record(systemEvent("policy.reloaded", {
        actor, outcome: { status: "refused", code: "policy_set_invalid" },
        detail: { ...following, activeHash: result.policySetHash, problems: result.error.problems },
      }));
      return;
    }
    const matches = result.policySetHash === reload.policySetHash;
    if (matches) this.logger.info({ ...following, policySetHash: result.policySetHash }, "policy reloaded, as announced by another gateway");
    else this.logger.warn({ ...following, policySetHash: result.policySetHash }, "policy reloaded as announced by another gateway, but this gateway's policy folder gives another set: keep the folders alike");
    await this.record(systemEvent("policy.reloaded", {
      actor, outcome: { status: "succeeded" },
      policy: { hash: result.policySetHash, decision: result.changed ? "replaced" : "unchanged" },
      detail: { ...following, previousHash: result.previousHash, matchesAnnounced: matches, warnings: [...result.warnings] },
    }));
  }

}
