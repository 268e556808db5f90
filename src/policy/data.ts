import { z } from "zod";
import { NAME_PATTERN } from "../identity/principal.js";
import { CLASSIFICATIONS, type Classification } from "./classification.js";

/**
 * policies/entities.json: the facts policies reason about that are not in the request — each model's clearance,
 * the tenants that may use it, whether raw PII may reach it, the file it was approved as — and each tenant's
 * default classification. It lives beside the policies and is hashed with them: approving a model for secret data
 * is a policy change, reviewed like one, never something a manifest or a caller can assert.
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

export const PolicyDataSchema = z.strictObject({
  defaults: z.strictObject({
    /** For requests whose caller names no classification and whose tenant has no default of its own. */
    tenantClassification: z.enum(CLASSIFICATIONS).default("internal"),
    /** For catalog models not listed under models. */
    model: ModelAttributes.omit({ approvedDigest: true }).default({ clearance: "public", allowedTenants: "*", acceptsPii: false }),
  }).prefault({}),
  tenants: z.record(Tenant, z.strictObject({ defaultClassification: z.enum(CLASSIFICATIONS) })).default({}),
  models: z.record(z.string().min(1).max(64), ModelAttributes).default({}),
});
export type PolicyData = z.infer<typeof PolicyDataSchema>;
export type PolicyDataInput = z.input<typeof PolicyDataSchema>;

/** Without a data file: unlabelled requests are internal, unlisted models public, so nothing above public flows. */
export const DEFAULT_POLICY_DATA: PolicyData = PolicyDataSchema.parse({});

export function modelAttributes(data: PolicyData, modelId: string): ModelAttributes {
  return data.models[modelId] ?? data.defaults.model;
}

export function tenantClassification(data: PolicyData, tenant: string): Classification {
  return data.tenants[tenant]?.defaultClassification ?? data.defaults.tenantClassification;
}
