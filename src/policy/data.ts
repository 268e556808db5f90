import { z } from "zod";
import { NAME_PATTERN } from "../identity/principal.js";
import { CLASSIFICATIONS, classificationLevel, higherClassification, type Classification } from "./classification.js";

/**
 * policies/entities.json: the facts policies reason about that are not in the request — each model's clearance,
 * the tenants that may use it, whether raw PII may reach it, the file it was approved as — and each tenant's
 * default classification and floor. It lives beside the policies and is hashed with them: approving a model for
 * secret data is a policy change, reviewed like one, never something a manifest or a caller can assert.
 */
const Tenant = z.string().regex(NAME_PATTERN, "tenant names use letters, digits, '.', '_', '@', ':' and '-'");

const ModelAttributes = z.strictObject({
  clearance: z.enum(CLASSIFICATIONS),
  /** "*": every tenant. */
  allowedTenants: z.union([z.literal("*"), z.array(Tenant)]),
  /** Raw (unredacted) PII may be sent to it. */
  acceptsPii: z.boolean().default(false),
  /** The SHA-256 it was approved as; a catalog entry with another digest is refused by the default policies. */
  approvedDigest: z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256").optional(),
});
export type ModelAttributes = z.infer<typeof ModelAttributes>;

const TenantAttributes = z.strictObject({
  /** The classification of the tenant's requests whose caller names none. */
  defaultClassification: z.enum(CLASSIFICATIONS).optional(),
  /** The floor: a caller's header naming a lower level is raised to it (see requestClassification). */
  minClassification: z.enum(CLASSIFICATIONS).optional(),
}).refine(
  (tenant) => tenant.defaultClassification === undefined || tenant.minClassification === undefined || atLeast(tenant.defaultClassification, tenant.minClassification),
  { message: "defaultClassification is below minClassification", path: ["defaultClassification"] },
);

export const PolicyDataSchema = z.strictObject({
  defaults: z.strictObject({
    /** For requests whose caller names no classification and whose tenant has no default of its own. */
    tenantClassification: z.enum(CLASSIFICATIONS).default("internal"),
    /** For catalog models not listed under models. */
    model: ModelAttributes.omit({ approvedDigest: true }).default({ clearance: "public", allowedTenants: "*", acceptsPii: false }),
  }).prefault({}),
  tenants: z.record(Tenant, TenantAttributes).default({}),
  models: z.record(z.string().min(1).max(64), ModelAttributes).default({}),
});
export type PolicyData = z.infer<typeof PolicyDataSchema>;
export type PolicyDataInput = z.input<typeof PolicyDataSchema>;

/** Without a data file: unlabelled requests are internal, unlisted models public, so nothing above public flows. */
export const DEFAULT_POLICY_DATA: PolicyData = PolicyDataSchema.parse({});

export function modelAttributes(data: PolicyData, modelId: string): ModelAttributes {
  return data.models[modelId] ?? data.defaults.model;
}

/** The classification of a tenant's requests whose caller names none: its default or the site's, at least its floor. */
export function tenantClassification(data: PolicyData, tenant: string): Classification {
  return higherClassification(data.tenants[tenant]?.defaultClassification ?? data.defaults.tenantClassification, tenantFloor(data, tenant));
}

/**
 * The classification a request is handled at: the caller's, raised to the tenant's floor, else the tenant's default.
 * Raised rather than refused: a floor promises that the tenant's data is never handled as less sensitive than the
 * site decided, and raising keeps that promise on every request while a client that labels everything alike (one
 * level hard-wired for all tenants) keeps working; the level applied is the one each execution and its audit
 * event record, and a request the raised level rules out is refused by the policy like any other.
 */
export function requestClassification(data: PolicyData, tenant: string, declared: Classification | undefined): Classification {
  return declared === undefined ? tenantClassification(data, tenant) : higherClassification(declared, tenantFloor(data, tenant));
}

function tenantFloor(data: PolicyData, tenant: string): Classification {
  return data.tenants[tenant]?.minClassification ?? CLASSIFICATIONS[0];
}

function atLeast(level: Classification, floor: Classification): boolean {
  return classificationLevel(level) >= classificationLevel(floor);
}
