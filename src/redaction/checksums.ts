/**
 * Check digits and structural rules of the identifiers detected. Each takes the bare value (separators removed)
 * and says whether it could have been issued, so that a random run of digits is not taken for PII.
 */

/** Luhn (ISO/IEC 7812-1), used by payment cards. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** Payment card: 13–19 digits, an issuer range in use (major industry 2–6: Mastercard, Amex, Visa, Discover, UnionPay, Maestro, JCB, Diners), Luhn. */
export function cardValid(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && digits[0]! >= "2" && digits[0]! <= "6" && luhnValid(digits);
}

/** IBAN lengths by country (SWIFT IBAN registry). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30,
  KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27,
  MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33,
  SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

/** ISO 13616: the country's length, then mod 97 of the rearranged number equals 1. `iban` uppercase, no spaces. */
export function ibanValid(iban: string): boolean {
  if (IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  return mod97(iban.slice(4) + iban.slice(0, 4)) === 1;
}

/** Remainder mod 97 of a string of digits and letters (A=10 … Z=35), digit by digit so no big integers are needed. */
export function mod97(value: string): number {
  let remainder = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 48 && code <= 57) remainder = (remainder * 10 + (code - 48)) % 97;
    else remainder = (remainder * 100 + (code - 55)) % 97;
  }
  return remainder;
}

/** UK NHS number: 10 digits, weights 10…2, check = 11 − (sum mod 11), 11 → 0, 10 never issued. */
export function nhsValid(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (digits.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === digits.charCodeAt(9) - 48;
}

/**
 * German Steuer-ID: 11 digits, no leading 0; among the first ten, exactly one digit occurs twice or three times
 * (three never in a row) and no other repeats; the last is an ISO 7064 MOD 11,10 check digit.
 */
export function steuerIdValid(digits: string): boolean {
  if (!/^[1-9]\d{10}$/.test(digits)) return false;
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < 10; i++) counts[digits.charCodeAt(i) - 48]!++;
  const repeated = counts.filter((c) => c > 1);
  if (repeated.length !== 1 || repeated[0]! > 3) return false;
  if (repeated[0] === 3 && /(\d)\1\1/.test(digits.slice(0, 10))) return false;
  let product = 10;
  for (let i = 0; i < 10; i++) {
    let sum = (digits.charCodeAt(i) - 48 + product) % 10;
    if (sum === 0) sum = 10;
    product = (sum * 2) % 11;
  }
  const check = 11 - product === 10 ? 0 : 11 - product;
  return check === digits.charCodeAt(10) - 48;
}

/**
 * French NIR (numéro de sécurité sociale): sex 1/2 (3, 4, 7, 8 for special cases), year, month (01–12, or 20–42 and
 * 50–99 where unknown), department (2A/2B for Corsica, counted as 19/18), commune, order, then key = 97 − (n mod 97).
 * `value`: 15 characters, uppercase, no spaces.
 */
export function nirValid(value: string): boolean {
  const match = /^([1-478])(\d{2})(\d{2})(\d{2}|2A|2B)(\d{6})(\d{2})$/.exec(value);
  if (!match) return false;
  const month = Number(match[3]);
  if (!((month >= 1 && month <= 12) || (month >= 20 && month <= 42) || month >= 50)) return false;
  const department = match[4] === "2A" ? "19" : match[4] === "2B" ? "18" : match[4]!;
  const number = `${match[1]}${match[2]}${match[3]}${department}${match[5]}`;
  return 97 - mod97(number) === Number(match[6]);
}

const DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE";

/** Spanish DNI (8 digits + letter) or NIE (X/Y/Z + 7 digits + letter): the letter is the number mod 23. Uppercase, no separators. */
export function dniValid(value: string): boolean {
  const match = /^([XYZ]?)(\d{7,8})([A-Z])$/.exec(value);
  if (!match) return false;
  const prefix = match[1] === "" ? "" : String("XYZ".indexOf(match[1]!));
  if ((prefix === "" ? 8 : 7) !== match[2]!.length) return false;
  return DNI_LETTERS[Number(prefix + match[2]) % 23] === match[3];
}

/** US SSN: no checksum, but never area 000, 666 or 9xx, group 00, serial 0000. */
export function ssnValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  return area !== "000" && area !== "666" && area[0] !== "9" && digits.slice(3, 5) !== "00" && digits.slice(5) !== "0000";
}
