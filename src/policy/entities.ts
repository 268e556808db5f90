import { classificationLevel } from "./classification.js";
import type { EntityJson, EntityUidJson } from "./cedar.js";
import { modelAttributes, type PolicyData } from "./data.js";
import type { ModelRef, PolicyPrincipal } from "./interface.js";

/**
 * The Cedar entities of a request, by the type names policies/atomic.cedarschema declares. Tenants are plain
 * strings in attributes (principal.tenant, resource.allowedTenants) because every entity reference crossing into
 * WebAssembly costs a few microseconds per decision; the User's parent Tenant is still there so that a site's
 * policy can write `principal in Atomic::Tenant::"acme"`.
 */
export const ENTITY_TYPES = { user: "Atomic::User", tenant: "Atomic::Tenant", model: "Atomic::Model", action: "Atomic::Action" } as const;

/** Subjects are unique only within a tenant; "/" cannot occur in tenant names, so the id is unambiguous. */
export function userUid(principal: PolicyPrincipal): EntityUidJson {
  return { type: ENTITY_TYPES.user, id: `${principal.tenant}/${principal.subject}` };
}

export function userEntity(principal: PolicyPrincipal): EntityJson {
  return {
    uid: userUid(principal),
    attrs: { tenant: principal.tenant, scopes: [...principal.scopes].sort() },
    parents: [{ type: ENTITY_TYPES.tenant, id: principal.tenant }],
  };
}

export function modelUid(model: ModelRef): EntityUidJson {
  return { type: ENTITY_TYPES.model, id: model.id };
}

export function modelEntity(data: PolicyData, model: ModelRef): EntityJson {
  const attributes = modelAttributes(data, model.id);
  const attrs: EntityJson["attrs"] = {
    clearance: classificationLevel(attributes.clearance),
    anyTenant: attributes.allowedTenants === "*",
    allowedTenants: attributes.allowedTenants === "*" ? [] : [...attributes.allowedTenants],
    acceptsPii: attributes.acceptsPii,
    digest: model.sha256,
  };
  if (attributes.approvedDigest !== undefined) attrs["approvedDigest"] = attributes.approvedDigest;
  return { uid: modelUid(model), attrs, parents: [] };
}
