import { constantTimeEqual } from "@agent-sessions/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { apiKeyAuthenticator, nativeSha256, portableSha256 } from "../src/auth.js";

describe("API key digests", () => {
  it("finds Node's synchronous native SHA-256 without importing node:crypto", () => {
    expect(nativeSha256()).not.toBeNull();
  });

  it("hashes every text as the portable SHA-256 does, lone surrogates included", () => {
    const native = nativeSha256()!;
    expect(native("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(portableSha256("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        expect(native(text)).toBe(portableSha256(text));
      }),
      { numRuns: 2_000 },
    );
  });

  it("compares digests as bytes or as text, never one with the other", () => {
    expect(constantTimeEqual("ab12", "ab12")).toBe(true);
    expect(constantTimeEqual("ab12", "ab13")).toBe(false);
    expect(constantTimeEqual("ab12", "ab1")).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual("\u0001\u0002", new Uint8Array([1, 2]))).toBe(false);
  });

  it("answers the organization of the key presented, and null for any other", () => {
    const authenticate = apiKeyAuthenticator([
      { orgId: "org_a", key: "key-a" },
      { orgId: "org_b", key: "key-b" },
    ]);
    const request = (headers: Record<string, string>) => new Request("http://localhost/", { headers });
    expect(authenticate(request({ authorization: "Bearer key-b" }))).toMatchObject({ orgId: "org_b" });
    expect(authenticate(request({ "x-api-key": "key-a" }))).toMatchObject({ orgId: "org_a" });
    expect(authenticate(request({ authorization: "Bearer key-c" }))).toBeNull();
    expect(authenticate(request({ authorization: "Bearer key-" }))).toBeNull();
    expect(authenticate(request({}))).toBeNull();
  });

  it("names each key's rate-limit bucket by the start of its digest: apart per key, alike on every instance", () => {
    const keys = [
      { orgId: "org_a", key: "key-a" },
      { orgId: "org_a", key: "key-a2" },
    ];
    const request = (key: string) => new Request("http://localhost/", { headers: { authorization: `Bearer ${key}` } });
    const [first, second, again] = [apiKeyAuthenticator(keys), apiKeyAuthenticator(keys), apiKeyAuthenticator([...keys].reverse())].map(
      (authenticate) => authenticate(request("key-a")) as { rateLimitKey?: string },
    );
    const other = apiKeyAuthenticator(keys)(request("key-a2")) as { rateLimitKey?: string };
    expect(first!.rateLimitKey).toMatch(/^[0-9a-f]{16}$/);
    expect(second!.rateLimitKey).toBe(first!.rateLimitKey);
    expect(again!.rateLimitKey).toBe(first!.rateLimitKey);
    expect(other.rateLimitKey).not.toBe(first!.rateLimitKey);
    expect(first!.rateLimitKey).not.toContain("key-a");
  });
});
