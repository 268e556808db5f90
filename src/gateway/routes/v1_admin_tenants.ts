import type { Context, Hono } from "hono";
import { z } from "zod";
import type { AuditEvent } from "../../audit/core/entry.js";
import { systemEvent } from "../../audit/events.js";
import { CriteriaSchema } from "../../bidding/criteria.js";
import { TenantLimitsSchema, TenantName, TenantRetentionSchema } from "../../config/schema.js";
import { hasScope } from "../../identity/principal.js";
import type { SettingsUpdate, TenantSettings, TenantSettingsView } from "../../tenants/settings.js";
import { actorOf } from "../actor.js";
import { notFound, unknownToTenant } from "../errors.js";
import { requireScope } from "../middleware/auth/index.js";
import { parseParams, readBody } from "../validation.js";

export const TenantPath = z.object({ tenant: TenantName });

/** Validated as the configuration file's entries are: whatever the file would refuse, this refuses. */
export const SettingsRequest = z.strictObject({
  /** Replaces the stored limit fields; each field set here replaces the file's. */
  limits: TenantLimitsSchema.optional(),
  /** Replaces the file's criteria for the tenant; null removes the stored ones. */
  bidding: z.strictObject({ criteria: CriteriaSchema.nullable() }).optional(),
  /** Replaces the file's retention for the tenant ({days: null}: kept until erased on demand); null removes it. */
  retention: TenantRetentionSchema.nullable().optional(),
}).refine((body) => body.limits !== undefined || body.bidding !== undefined || body.retention !== undefined, "set limits, bidding, retention or any of them");

const ROUTE = "/v1/admin/tenants/:tenant/settings";
const SETTINGS_PATH = /^\/v1\/admin\/tenants\/[^/]+\/settings$/;

/**
 * An admin's calls to these routes are not counted against its tenant's request rate (app.ts): an admin whose
 * tenant is throttled must still be able to lift the limit. Anyone else's are counted, as everywhere under /v1.
 */
export function exemptFromRateLimit(c: Context): boolean {
  return SETTINGS_PATH.test(c.req.path) && hasScope(c.get("principal"), "admin");
}

/**
 * A tenant's limits and bidding criteria on a running gateway: read where each comes from, store new ones over the
 * configuration file's, or remove them. A change applies from this gateway's next request on; other gateways on
 * the same database take it at their next refresh (limits.tenantSettingsRefreshMs). `admin` is every scope, not every tenant: an admin manages its
 * own tenant's settings, and another tenant is answered as unknown. Each change is audited as
 * `tenant.settings.changed` with the settings before and after.
 */
export function registerAdminTenants(app: Hono, settings: TenantSettings): void {
  app.get(ROUTE, requireScope("admin"), (c) => {
    const tenant = ownTenant(c);
    return c.json(settingsBody(tenant, settings.view(tenant)));
  });

  app.put(ROUTE, requireScope("admin"), async (c) => {
    const tenant = ownTenant(c);
    const body = await readBody(c, SettingsRequest);
    const update = await settings.change(tenant, { limits: body.limits, criteria: body.bidding?.criteria, retention: body.retention }, c.get("principal").subject, changeEvent(c, `PUT ${ROUTE}`, tenant));
    return c.json(settingsBody(tenant, update.after));
  });

  app.delete(ROUTE, requireScope("admin"), async (c) => {
    const tenant = ownTenant(c);
    const update = await settings.remove(tenant, changeEvent(c, `DELETE ${ROUTE}`, tenant));
    if (update === null) throw notFound("tenant_settings_not_found", `nothing is stored for tenant ${tenant}: the configuration file's settings apply`, "tenant");
    return c.json(settingsBody(tenant, update.after));
  });
}

function ownTenant(c: Context): string {
  const { tenant } = parseParams(TenantPath, { tenant: c.req.param("tenant") });
  if (tenant !== c.get("principal").tenant) {
    throw unknownToTenant("tenant_not_found", `tenant ${tenant} is not this caller's: an admin manages its own tenant's settings`, "tenant");
  }
  return tenant;
}

function settingsBody(tenant: string, view: TenantSettingsView) {
  const { stored } = view;
  return {
    object: "tenant.settings" as const,
    tenant,
    file: { limits: view.file.limits, bidding: { criteria: view.file.criteria }, retention: view.file.retention },
    stored: stored === null ? null : {
      limits: stored.limits,
      bidding: { criteria: stored.biddingCriteria },
      retention: stored.retention,
      updated_at: stored.updatedAt.toISOString(),
      updated_by: stored.updatedBy,
    },
    effective: { limits: view.effective.limits, bidding: { criteria: view.effective.criteria }, retention: view.effective.retention },
  };
}

/** What an auditor needs to tell what changed: the stored settings and those in force, before and after. */
function auditedSettings(view: TenantSettingsView) {
  return {
    stored: view.stored === null ? null : { limits: view.stored.limits, criteria: view.stored.biddingCriteria, retention: view.stored.retention },
    effective: view.effective,
  };
}

/** The change's audit event, queued in the same transaction as the change itself (no change without its record). */
function changeEvent(c: Context, endpoint: string, tenant: string): (update: SettingsUpdate) => AuditEvent {
  return (update) => systemEvent("tenant.settings.changed", {
    actor: actorOf(c),
    request: { id: c.get("requestId"), endpoint },
    detail: { tenant, before: auditedSettings(update.before), after: auditedSettings(update.after) },
  });
}
