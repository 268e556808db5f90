/**
 * The kinds of PII detected. National identifiers are named by country: US Social Security number, UK NHS number,
 * German tax identification number (Steuer-ID), French social security number (NIR), Spanish DNI/NIE.
 */
export const PII_KINDS = ["email", "phone", "iban", "credit_card", "us_ssn", "uk_nhs", "de_tax_id", "fr_nir", "es_dni", "ipv4", "ipv6"] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** Kinds whose values carry a checksum: a finding of these kinds is only reported when the checksum holds. */
export const CHECKSUM_KINDS: readonly PiiKind[] = ["iban", "credit_card", "uk_nhs", "de_tax_id", "fr_nir", "es_dni"];

/** Placeholder labels: [EMAIL_1], [IBAN_2], … */
export const PLACEHOLDER_LABELS: Record<PiiKind, string> = {
  email: "EMAIL",
  phone: "PHONE",
  iban: "IBAN",
  credit_card: "CARD",
  us_ssn: "US_SSN",
  uk_nhs: "UK_NHS",
  de_tax_id: "DE_TAX_ID",
  fr_nir: "FR_NIR",
  es_dni: "ES_DNI",
  ipv4: "IPV4",
  ipv6: "IPV6",
};
