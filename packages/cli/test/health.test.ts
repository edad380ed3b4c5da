import { describe, expect, it } from "vitest";
import { healthProbes } from "../src/serve.js";

const get = (path: string, method = "GET") => new Request(`http://127.0.0.1:3000${path}`, { method });

describe("serve's health probes", () => {
  it("answers /healthz while the process runs, needing no key", async () => {
    const probes = healthProbes(() => Promise.reject(new Error("down")), { report: () => {} });
    const answer = await probes(get("/healthz"))!;
    expect({ status: answer.status, body: await answer.json(), cache: answer.headers.get("cache-control") }).toEqual({
      status: 200,
      body: { status: "ok" },
      cache: "no-store",
    });
  });

  it("answers /readyz 200 when the store is ready, else 503 telling nothing of why, and reports each new reason once", async () => {
    let failure: Error | null = new Error("connect ECONNREFUSED 10.0.0.7:5432");
    const reports: string[] = [];
    const probes = healthProbes(
      async () => {
        if (failure) throw failure;
      },
      { report: (reason) => reports.push(reason) },
    );
    for (let i = 0; i < 3; i++) {
      const answer = await probes(get("/readyz?verbose=1"))!;
      expect({ status: answer.status, body: await answer.json() }).toEqual({ status: 503, body: { status: "unavailable" } });
    }
    expect(reports).toEqual(["connect ECONNREFUSED 10.0.0.7:5432"]);
    failure = null;
    expect((await probes(get("/readyz"))!).status).toBe(200);
    failure = new Error("connect ECONNREFUSED 10.0.0.7:5432");
    expect((await probes(get("/readyz"))!).status).toBe(503);
    expect(reports).toHaveLength(2); // the same reason after a recovery is news again
  });

  it("answers 503 when the store does not answer in time", async () => {
    const reports: string[] = [];
    const probes = healthProbes(() => new Promise(() => {}), { timeoutMs: 20, report: (reason) => reports.push(reason) });
    expect((await probes(get("/readyz"))!).status).toBe(503);
    expect(reports).toEqual(["the store did not answer within 20 ms"]);
  });

  it("leaves every other request to the router", () => {
    const probes = healthProbes(async () => {});
    for (const request of [get("/healthz", "POST"), get("/readyz", "DELETE"), get("/api/v1/sessions"), get("/healthzz"), get("/f/healthz")]) {
      expect(probes(request)).toBeNull();
    }
  });
});
