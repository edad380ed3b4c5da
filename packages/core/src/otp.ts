const LABELLED = /(?:code|otp|passcode|pin|token|password|verification|verify)\D{0,30}?\b(\d{4,8})\b/i;
const STANDALONE = /(?<![\d.,:/-])\b(\d{4,8})\b(?![\d.,:/-]\d)/g;

/**
 * Extracts a one-time code (4 to 8 digits) from a message: a code labelled as such
 * ("Your verification code is 482913") wins over any other standalone number; years, times,
 * prices and longer numbers are not codes. Returns `null` when the message holds none.
 */
export function extractOtp(subject: string, body: string): string | null {
  for (const text of [subject, body]) {
    const labelled = LABELLED.exec(text);
    if (labelled) return labelled[1]!;
  }
  for (const text of [subject, body]) {
    for (const match of text.matchAll(STANDALONE)) {
      const digits = match[1]!;
      if (digits.length === 4 && /^(19|20)\d\d$/.test(digits)) continue; // a year, not a code
      return digits;
    }
  }
  return null;
}
