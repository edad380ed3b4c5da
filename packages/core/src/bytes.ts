/**
 * Bytes as text and secrets compared in constant time, with what every runtime has (`btoa`,
 * `atob`): the webhook signatures, review links and API keys share them.
 */

/** Standard base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

/** The URL-safe base64 alphabet as ASCII codes, and each code's 6-bit value (-1 for none). */
const URL_CODES = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
const URL_VALUES = new Int8Array(128).fill(-1);
URL_CODES.forEach((code, value) => {
  URL_VALUES[code] = value;
});
const ascii = new TextDecoder();

/**
 * URL-safe base64 of `bytes`, unpadded (RFC 4648 §5): fit for a path segment. Written into bytes
 * in one pass, not a string a character at a time: an encrypted record of a megabyte is encoded
 * in milliseconds.
 */
export function toBase64Url(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil((bytes.length * 4) / 3));
  let o = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = URL_CODES[n >> 18]!;
    out[o++] = URL_CODES[(n >> 12) & 63]!;
    out[o++] = URL_CODES[(n >> 6) & 63]!;
    out[o++] = URL_CODES[n & 63]!;
  }
  if (i < bytes.length) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    out[o++] = URL_CODES[n >> 18]!;
    out[o++] = URL_CODES[(n >> 12) & 63]!;
    if (i + 1 < bytes.length) out[o++] = URL_CODES[(n >> 6) & 63]!;
  }
  return ascii.decode(out);
}

/** The bytes of unpadded URL-safe base64 text; throws a `TypeError` on any other character or a length no bytes have. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (text.length % 4 === 1) throw new TypeError("not URL-safe base64: its length fits no bytes");
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let n = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? URL_VALUES[code]! : -1;
    if (value < 0) throw new TypeError("not URL-safe base64: a character outside its alphabet");
    n = ((n << 6) | value) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (n >> bits) & 255;
    }
  }
  return out;
}

/** The bytes of standard base64 text. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `bytes` as lowercase hex digits. */
export function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Compares two digests, as bytes or as text, in time that depends only on their length. Texts are
 * compared by UTF-16 code unit; a text is never equal to bytes.
 */
export function constantTimeEqual(a: Uint8Array | string, b: Uint8Array | string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  if (typeof a === "string" && typeof b === "string") {
    for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  } else if (typeof a !== "string" && typeof b !== "string") {
    for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  } else {
    return false;
  }
  return difference === 0;
}
