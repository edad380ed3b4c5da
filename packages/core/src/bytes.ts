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

/** URL-safe base64 of `bytes`, unpadded (RFC 4648 §5): fit for a path segment. */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
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
