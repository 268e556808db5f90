import { describe, expect, it } from "vitest";
import { cardValid, dniValid, ibanValid, luhnValid, nhsValid, nirValid, ssnValid, steuerIdValid } from "./checksums.js";

describe("checksums", () => {
  it("accepts published examples", () => {
    for (const iban of ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300", "NO9386011117947"]) expect(ibanValid(iban), iban).toBe(true);
    for (const card of ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "3530111333300000", "4222222222222"]) expect(cardValid(card), card).toBe(true);
    expect(nhsValid("9434765919")).toBe(true);
    expect(steuerIdValid("86095742719")).toBe(true);
    expect(steuerIdValid("65929970489")).toBe(true); // a digit three times, not in a row
    expect(nirValid("255081416802538")).toBe(true);
    expect(dniValid("12345678Z")).toBe(true);
    expect(dniValid("X1234567L")).toBe(true);
    expect(ssnValid("078051120")).toBe(true);
  });

  it("refuses a changed check character and impossible structures", () => {
    expect(ibanValid("DE89370400440532013001")).toBe(false);
    expect(ibanValid("DE8937040044053201300")).toBe(false); // DE is 22 long
    expect(ibanValid("XX89370400440532013000")).toBe(false);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(cardValid("1111111111111117")).toBe(false); // Luhn-valid, no issuer range starts with 1
    expect(nhsValid("9434765918")).toBe(false);
    expect(nhsValid("0000000010")).toBe(false); // check digit would be 10: never issued
    expect(steuerIdValid("86095742718")).toBe(false);
    expect(steuerIdValid("01234567891")).toBe(false); // leading zero
    expect(steuerIdValid("11123456780")).toBe(false); // three in a row
    expect(steuerIdValid("12345678903")).toBe(false); // no repeated digit
    expect(nirValid("255081416802539")).toBe(false);
    expect(nirValid("555081416802538")).toBe(false);
    expect(dniValid("12345678A")).toBe(false);
    for (const ssn of ["000123456", "666123456", "900123456", "123004567", "123450000"]) expect(ssnValid(ssn), ssn).toBe(false);
  });
});
