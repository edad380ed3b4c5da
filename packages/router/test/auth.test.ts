import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiKeyAuthenticator, nativeSha256, portableSha256 } from "../src/auth.js";

const hex = (bytes: Uint8Array) => Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");

describe("API key digests", () => {
  it("finds Node's synchronous native SHA-256 without importing node:crypto", () => {
    expect(nativeSha256()).not.toBeNull();
  });

  it("hashes every text as the portable SHA-256 does, lone surrogates included", () => {
    const native = nativeSha256()!;
    expect(hex(native(""))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(hex(native(text))).toBe(hex(portableSha256(text)));
      }),
      { numRuns: 2_000 },
    );
  });

  it("answers the organization of the key presented, and null for any other", () => {
    const authenticate = apiKeyAuthenticator([
      { orgId: "org_a", key: "key-a" },
      { orgId: "org_b", key: "key-b" },
    ]);
    const request = (headers: Record<string, string>) => new Request("http://localhost/", { headers });
    expect(authenticate(request({ authorization: "Bearer key-b" }))).toEqual({ orgId: "org_b" });
    expect(authenticate(request({ "x-api-key": "key-a" }))).toEqual({ orgId: "org_a" });
    expect(authenticate(request({ authorization: "Bearer key-c" }))).toBeNull();
    expect(authenticate(request({ authorization: "Bearer key-" }))).toBeNull();
    expect(authenticate(request({}))).toBeNull();
  });
});
