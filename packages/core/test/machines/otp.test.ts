import { describe, expect, it } from "vitest";
import { extractOtp } from "../../src/index.js";

describe("extractOtp", () => {
  const cases: [why: string, subject: string, body: string, code: string | null][] = [
    ["a labelled code in the body", "Your verification code", "Your verification code is 482913.", "482913"],
    ["a standalone code in the subject", "482913 is your code", "", "482913"],
    ["a standalone code in the body", "Sign in", "Use 7781 to sign in", "7781"],
    ["an 8-digit labelled code", "Hello", "Your OTP: 12345678", "12345678"],
    ["leading zeros kept", "PIN", "pin: 0042", "0042"],
    ["a labelled code over an earlier standalone number", "Order 98765 shipped", "Your code is 112233", "112233"],
    ["a labelled code in the body over a standalone number in the subject", "Account 55555555", "password 999999", "999999"],
    ["a labelled number even when it looks like a year", "Code: 2024", "", "2024"],
    ["the first standalone number that is not a year", "", "one 1999 two 8888", "8888"],
    ["a number after a thousands-separated price", "", "Price 1,234 or 4321", "4321"],
    ["a number after a slashed date", "", "Reference 12/2024, the number is 5566", "5566"],
    ["nothing in a plain message", "Welcome aboard", "Thanks for signing up", null],
    ["no year", "Welcome", "Thanks for joining in 2024!", null],
    ["no time or ISO date", "Meeting", "See you at 10:30 on 2024-05-01", null],
    ["no decimal price", "Invoice", "Total: 1234.56 EUR", null],
    ["no number longer than 8 digits", "Hi", "Call 123456789 now", null],
    ["no number shorter than 4 digits", "Hi", "Your code is 123", null],
  ];

  it.each(cases)("finds %s", (_why, subject, body, code) => {
    expect(extractOtp(subject, body)).toBe(code);
  });
});
