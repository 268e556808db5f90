import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../../identity/principal.js";
import { PolicyDataSchema, requestClassification } from "../../../policy/data.js";
import { errorHandler } from "../errors/index.js";
import { CLASSIFICATION_HEADER, dataClassification, PURPOSE_HEADER } from "./index.js";

const data = PolicyDataSchema.parse({ tenants: { ward: { minClassification: "confidential" }, open: { defaultClassification: "internal" } } });

/** The middleware under a stand-in for `authenticate`, answering the context it set. */
function app(tenant: string): Hono {
  const served = new Hono();
  served.onError(errorHandler());
  served.use(async (c, next) => {
    c.set("principal", { kind: "api_key", subject: "apikey:t", tenant, scopes: new Set(), tokenIdHash: "0".repeat(32) } as Principal);
    await next();
  });
  served.use(dataClassification({ requestClassification: (name, declared) => requestClassification(data, name, declared) }));
  served.get("/", (c) => c.json({ classification: c.get("classification"), purpose: c.get("purpose") }));
  return served;
}

async function ask(tenant: string, headers: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app(tenant).request("/", { headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("the tenant's classification floor", () => {
  it("raises a lower header to the floor and keeps a higher one", async () => {
    expect((await ask("ward", { [CLASSIFICATION_HEADER]: "public" })).body["classification"]).toBe("confidential");
    expect((await ask("ward", { [CLASSIFICATION_HEADER]: "internal" })).body["classification"]).toBe("confidential");
    expect((await ask("ward", { [CLASSIFICATION_HEADER]: "secret" })).body["classification"]).toBe("secret");
    expect((await ask("ward", {})).body["classification"]).toBe("confidential");
  });

  it("leaves a tenant without a floor at the level its caller names", async () => {
    expect((await ask("open", { [CLASSIFICATION_HEADER]: "public" })).body["classification"]).toBe("public");
    expect((await ask("open", {})).body["classification"]).toBe("internal");
  });
});

describe("the purpose header", () => {
  const refused = [
    // A card number glued to a letter, or grouped by separators.
    "p4145780625911180", "card-4145-7806-2591-1180", "x4145.7806.2591.1180",
    // An international phone number without its "+", after a word.
    "tel.442079460958", "tel_442079460958", "call-442079460958",
    // A national phone number after a keyword, an NHS number, an SSN, an IBAN in either case, an IPv4 address.
    "tel.07911123456", "nhs.943-476-5919", "nhs9434765919", "ssn.123-45-6789", "iban.DE89370400440532013000", "iban.de89370400440532013000", "ip.10.0.0.1",
  ];
  it.each(refused)("refuses %s as PII with 400 purpose_invalid", async (value) => {
    const { status, body } = await ask("open", { [PURPOSE_HEADER]: value });
    expect(status).toBe(400);
    expect(body["error"]).toMatchObject({ code: "purpose_invalid", param: PURPOSE_HEADER });
  });

  it("keeps ordinary names with digits, lower-cased", async () => {
    for (const value of ["training", "Analytics.v2", "support-2024", "batch_20240101", "release-1.2.3", "q3-2024", "eval.run-17", "ticket-4711", "run.2024-11-05"]) {
      const { status, body } = await ask("open", { [PURPOSE_HEADER]: value });
      expect(status, value).toBe(200);
      expect(body["purpose"]).toBe(value.toLowerCase());
    }
  });
});
