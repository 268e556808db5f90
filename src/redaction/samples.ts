/**
 * Seeded generators of PII values that could have been issued (valid checksums, plausible structure) in the ways
 * people write them, and of look-alikes with a wrong check digit. For the recall and false-positive tests and the
 * bench; nothing at run time uses them.
 */
import { IBAN_LENGTHS, luhnValid, mod97 } from "./checksums.js";
import { isValidPhoneNumber } from "libphonenumber-js/max";
import type { PiiKind } from "./kinds.js";
import type { Rng } from "../util/rng.js";

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => String(int(rng, 0, 9))).join("");
const group = (value: string, sizes: number[], separator: string) => {
  const out: string[] = [];
  let at = 0;
  for (const size of sizes) {
    out.push(value.slice(at, at + size));
    at += size;
  }
  if (at < value.length) out.push(value.slice(at));
  return out.filter((s) => s.length > 0).join(separator);
};

function luhnComplete(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error("unreachable");
}

export function card(rng: Rng): string {
  const kind = pick(rng, ["visa", "mastercard", "amex", "discover", "unionpay", "jcb"] as const);
  const [prefix, length] = {
    visa: ["4", 16], mastercard: [String(int(rng, 51, 55)), 16], amex: [pick(rng, ["34", "37"]), 15],
    discover: ["6011", 16], unionpay: ["62", 19], jcb: ["35", 16],
  }[kind] as [string, number];
  const number = luhnComplete(prefix + digits(rng, length - prefix.length - 1));
  const separator = pick(rng, ["", " ", "-"]);
  if (separator === "") return number;
  return kind === "amex" ? group(number, [4, 6, 5], separator) : group(number, [4, 4, 4, 4], separator);
}

const IBAN_COUNTRIES = ["DE", "GB", "FR", "NL", "ES", "IT", "CH", "BE", "AT", "PL", "NO", "IE", "PT", "SE", "DK", "FI", "LU", "MT"];

export function iban(rng: Rng): string {
  const country = pick(rng, IBAN_COUNTRIES);
  const length = IBAN_LENGTHS[country]!;
  const letters = country === "GB" || country === "NL" || country === "IE" || country === "MT" ? 4 : 0;
  const bban = Array.from({ length: letters }, () => String.fromCharCode(int(rng, 65, 90))).join("") + digits(rng, length - 4 - letters);
  const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, "0");
  const value = `${country}${check}${bban}`;
  return rng() < 0.5 ? value : value.match(/.{1,4}/g)!.join(" ");
}

export function nhs(rng: Rng): string {
  for (;;) {
    const body = digits(rng, 9);
    let sum = 0;
    for (let i = 0; i < 9; i++) sum += Number(body[i]) * (10 - i);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    const value = body + (check === 11 ? 0 : check);
    return pick(rng, [value, group(value, [3, 3, 4], " "), group(value, [3, 3, 4], "-")]);
  }
}

export function steuerId(rng: Rng): string {
  for (;;) {
    const pool = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    for (let i = pool.length - 1; i > 0; i--) {
      const j = int(rng, 0, i);
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    const ten = pool.slice(0, 9);
    ten.splice(int(rng, 0, 9), 0, ten[int(rng, 0, 8)]!);
    if (ten[0] === 0) continue;
    let product = 10;
    for (const d of ten) {
      let sum = (d + product) % 10;
      if (sum === 0) sum = 10;
      product = (sum * 2) % 11;
    }
    const check = 11 - product === 10 ? 0 : 11 - product;
    const value = ten.join("") + check;
    return rng() < 0.6 ? value : group(value, [2, 3, 3, 3], " ");
  }
}

export function nir(rng: Rng): string {
  const department = rng() < 0.1 ? pick(rng, ["2A", "2B"]) : String(int(rng, 1, 95)).padStart(2, "0");
  const head = `${int(rng, 1, 2)}${digits(rng, 2)}${String(int(rng, 1, 12)).padStart(2, "0")}`;
  const tail = `${String(int(rng, 1, 999)).padStart(3, "0")}${String(int(rng, 1, 999)).padStart(3, "0")}`;
  const numeric = `${head}${department === "2A" ? "19" : department === "2B" ? "18" : department}${tail}`;
  const key = String(97 - mod97(numeric)).padStart(2, "0");
  const value = `${head}${department}${tail}${key}`;
  return rng() < 0.5 ? value : group(value, [1, 2, 2, 2, 3, 3, 2], " ");
}

export function dni(rng: Rng): string {
  const letters = "TRWAGMYFPDXBNJZSQVHLCKE";
  if (rng() < 0.7) {
    const n = digits(rng, 8);
    return `${n}${rng() < 0.2 ? "-" : ""}${letters[Number(n) % 23]}`;
  }
  const prefix = pick(rng, ["X", "Y", "Z"]);
  const n = digits(rng, 7);
  return `${prefix}${n}${letters[Number(String("XYZ".indexOf(prefix)) + n) % 23]}`;
}

export function email(rng: Rng): string {
  const name = pick(rng, ["anna", "j.smith", "li.wei", "m_garcia", "o.connor+bank", "kofi", "ines.dupont"]);
  return `${name}${int(rng, 1, 999)}@${pick(rng, ["example.com", "mail.example.org", "corp.example.co.uk", "example.de"])}`;
}

/** Numbers the numbering plans say are in service (drama ranges such as 07700 900xxx are not), in national and international formats. */
export function phone(rng: Rng): string {
  const line = () => String(int(rng, 0, 9999)).padStart(4, "0");
  for (;;) {
    const [number, region] = pick(rng, [
      () => [`+1 ${pick(rng, ["212", "415", "312", "617", "202"])} ${int(rng, 200, 999)} ${line()}`, undefined],
      () => [`(${pick(rng, ["212", "415", "312", "617", "202"])}) ${int(rng, 200, 999)}-${line()}`, "US"],
      () => [`+44 20 7${digits(rng, 3)} ${line()}`, undefined],
      () => [`07${int(rng, 400, 999)} ${digits(rng, 6)}`, "GB"],
      () => [`+49 30 ${int(rng, 2000000, 8999999)}`, undefined],
      () => [`030 ${int(rng, 2000000, 8999999)}`, "DE"],
      () => [`+33 6 ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)}`, undefined],
      () => [`0${int(rng, 1, 7)} ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)}`, "FR"],
    ] as const)() as [string, "US" | "GB" | "DE" | "FR" | undefined];
    if (isValidPhoneNumber(number, region)) return number;
  }
}

export function ssn(rng: Rng): string {
  let area: number;
  do area = int(rng, 1, 899);
  while (area === 666);
  return `${String(area).padStart(3, "0")}-${String(int(rng, 1, 99)).padStart(2, "0")}-${String(int(rng, 1, 9999)).padStart(4, "0")}`;
}

export function ipv4(rng: Rng): string {
  return [int(rng, 1, 223), int(rng, 0, 255), int(rng, 0, 255), int(rng, 1, 254)].join(".");
}

export function ipv6(rng: Rng): string {
  const groups = Array.from({ length: 8 }, () => int(rng, 0, 0xffff).toString(16));
  if (rng() < 0.5) return groups.join(":");
  return `2001:db8::${groups.slice(5).join(":")}`;
}

export const GENERATORS: Record<PiiKind, (rng: Rng) => string> = {
  email, phone, iban, credit_card: card, us_ssn: ssn, uk_nhs: nhs, de_tax_id: steuerId, fr_nir: nir, es_dni: dni, ipv4, ipv6,
};

/** The same value with its check character changed to another: what a typo or a random number looks like. */
export function breakCheck(value: string, rng: Rng): string {
  const positions = [...value].map((c, i) => (/\d/.test(c) ? i : -1)).filter((i) => i >= 0);
  const at = positions.at(-1)!;
  const old = Number(value[at]);
  const replacement = (old + int(rng, 1, 9)) % 10;
  return value.slice(0, at) + replacement + value.slice(at + 1);
}

const WORDS = ["the", "report", "account", "please", "send", "to", "customer", "invoice", "on", "Monday", "and", "ref", "2024", "42", "order", "for", "our", "team", "with", "note:", "regarding", "case", "7", "is", "open", "—", "(see", "above)", "thanks,"];

export interface SeededText {
  text: string;
  seeded: { kind: PiiKind; start: number; end: number; value: string }[];
}

/** Prose with `count` values of the given kinds at known offsets, separated by a few words (some of them numbers). */
export function seededText(rng: Rng, kinds: readonly PiiKind[], count: number, generate: (kind: PiiKind) => string = (kind) => GENERATORS[kind](rng)): SeededText {
  let text = "";
  const seeded: SeededText["seeded"] = [];
  for (let i = 0; i < count; i++) {
    const words = int(rng, 2, 8);
    for (let w = 0; w < words; w++) text += `${pick(rng, WORDS)} `;
    const kind = pick(rng, kinds);
    const value = generate(kind);
    seeded.push({ kind, start: text.length, end: text.length + value.length, value });
    text += value + pick(rng, [" ", ", ", ". ", "; ", "\n"]);
  }
  return { text, seeded };
}
