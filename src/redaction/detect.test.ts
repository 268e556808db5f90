import { describe, expect, it } from "vitest";
import { detectPii } from "./detect.js";

function found(text: string, options?: Parameters<typeof detectPii>[1]) {
  return detectPii(text, options).map((f) => [f.kind, text.slice(f.start, f.end)]);
}

describe("detectPii", () => {
  it("finds each kind as people write it", () => {
    expect(found("write to Jane.Doe+bank@mail.example.co.uk.")).toEqual([["email", "Jane.Doe+bank@mail.example.co.uk"]]);
    expect(found("IBAN: DE89 3704 0044 0532 0130 00 or fr1420041010050500013m02606")).toEqual([["iban", "DE89 3704 0044 0532 0130 00"], ["iban", "fr1420041010050500013m02606"]]);
    expect(found("card 4111-1111-1111-1111 exp 2027, amex 3782 822463 10005")).toEqual([["credit_card", "4111-1111-1111-1111"], ["credit_card", "3782 822463 10005"]]);
    expect(found("NHS no. 943 476 5919")).toEqual([["uk_nhs", "943 476 5919"]]);
    expect(found("Steuer-ID 86 095 742 719")).toEqual([["de_tax_id", "86 095 742 719"]]);
    expect(found("NIR 2 55 08 14 168 025 38")).toEqual([["fr_nir", "2 55 08 14 168 025 38"]]);
    expect(found("DNI 12345678-Z, NIE X1234567L")).toEqual([["es_dni", "12345678-Z"], ["es_dni", "X1234567L"]]);
    expect(found("SSN 078-05-1120; ssn: 078051120")).toEqual([["us_ssn", "078-05-1120"], ["us_ssn", "078051120"]]);
    expect(found("from 10.0.12.7 and fe80::1ff:fe23:4567:890a")).toEqual([["ipv4", "10.0.12.7"], ["ipv6", "fe80::1ff:fe23:4567:890a"]]);
  });

  it("finds phone numbers: international anywhere, national in the configured regions", () => {
    expect(found("call +1 415 555 2671 or (415) 555-2671")).toEqual([["phone", "+1 415 555 2671"], ["phone", "(415) 555-2671"]]);
    expect(found("London 020 7946 0958, Paris 06 12 34 56 78, Berlin +49 30 12345678, 0049 30 12345678")).toEqual([
      ["phone", "020 7946 0958"], ["phone", "06 12 34 56 78"], ["phone", "+49 30 12345678"], ["phone", "0049 30 12345678"],
    ]);
    expect(found("phone: 4155552670")).toEqual([["phone", "4155552670"]]);
    expect(found("Paris 06 12 34 56 78", { phoneRegions: ["US"] })).toEqual([]);
  });

  it("does not take numbers that only look like PII", () => {
    const text = [
      "order 4155552670 shipped", // a bare run with no phone keyword
      "on 2024-05-12 at 12:30:45", // date and time
      "pi is 3.14159265358979", // decimal
      "version 1.2.3.4.5, OID 1.3.6.1.4.1", // dotted numbers longer than an address
      "card 4111 1111 1111 1112", // Luhn fails
      "IBAN DE89 3704 0044 0532 0130 01", // mod 97 fails
      "total 1234567890123 units", // Luhn fails, no issuer
      "std::vector and a::b",
      "SKU AB4111111111111111X",
    ].join("\n");
    expect(found(text)).toEqual([]);
  });

  it("reports each span once: the longer of overlapping findings, else the stricter kind", () => {
    expect(found("+1 943 476 5919")).toEqual([["phone", "+1 943 476 5919"]]);
    expect(found("943 476 5919")).toEqual([["uk_nhs", "943 476 5919"]]);
    const findings = detectPii("a@b.example 4111111111111111 a@b.example");
    expect(findings.map((f) => [f.start, f.end])).toEqual([[0, 11], [12, 28], [29, 40]]);
  });

  it("honours kinds", () => {
    expect(found("a@b.example 4111111111111111", { kinds: ["credit_card"] })).toEqual([["credit_card", "4111111111111111"]]);
  });

  it("stays linear on adversarial input", () => {
    const cases = ["a".repeat(200_000) + "@", "1 ".repeat(100_000), "@".repeat(100_000), "1-".repeat(100_000), ":".repeat(100_000), "a.".repeat(100_000) + "@x"];
    for (const text of cases) {
      const started = performance.now();
      detectPii(text);
      expect(performance.now() - started, text.slice(0, 10)).toBeLessThan(2000);
    }
  });
});
