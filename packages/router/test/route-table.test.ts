import { IttyRouter } from "itty-router";
import { describe, expect, it } from "vitest";
import { countSegments, plainPath, RouteTable } from "../src/route-table.js";
import { apiRoutes } from "../src/router.js";

const extra = [
  { method: "GET", path: "/files/*" },
  { method: "GET", path: "/maybe/:id?" },
  { method: "POST", path: "/deep/:rest+" },
  { method: "GET", path: "/" },
  { method: "GET", path: "/openapi.json" },
];
const patterns = [...extra, ...apiRoutes.map(({ method, path }) => ({ method, path }))];

/** A table and a plain itty-router over the same routes, each answering which route it matched. */
function routers() {
  const table = new RouteTable();
  const plain = IttyRouter();
  for (const [index, { method, path }] of patterns.entries()) {
    const handler = async (request: Request & { params: Record<string, string> }) => new Response(`${index} ${JSON.stringify(request.params)}`);
    table.add(method, path, handler);
    plain[method.toLowerCase() as "get"](path, handler);
  }
  return { table, plain };
}

/** The segments the table matches a URL's path by, or `null` when it leaves the path to the URL parser. */
const requestSegments = (url: string) => {
  const path = plainPath(url);
  return path === null ? null : countSegments(path);
};

const answer = async (response: Promise<Response | undefined> | undefined) => ((await response) ? (await response)!.text() : "none");

describe("the route table", () => {
  it("counts a URL's path segments, trailing slashes aside, and gives up on paths the parser may rewrite", () => {
    expect(requestSegments("http://h/")).toBe(0);
    expect(requestSegments("http://h")).toBe(0);
    expect(requestSegments("http://h?next=/a/b")).toBe(0);
    expect(requestSegments("http://h:3000/api/v1/sessions")).toBe(3);
    expect(requestSegments("http://h/api/v1/sessions///?x=/y/z#/w")).toBe(3);
    expect(requestSegments("http://[::1]:80/v1/sessions/sess_1/finish")).toBe(4);
    expect(requestSegments("http://h/v1//forms")).toBe(3);
    expect(requestSegments("http://h/api/v1/./sessions")).toBeNull();
    expect(requestSegments("http://h/api/v1/%2E%2e/sessions")).toBeNull();
    expect(requestSegments("http://h/api\\v1")).toBeNull();
    expect(requestSegments("not a url")).toBeNull();
  });

  it("matches every request as one itty-router over all the routes does, whatever its path looks like", async () => {
    const { table, plain } = routers();
    const paths = patterns.flatMap(({ path }) => {
      const concrete = path.replace(/:(\w+)[+?]?/g, "x_$1").replace("*", "a/b");
      return [concrete, `${concrete}/`, `${concrete}//`, `${concrete}?q=/1/2`, `/z${concrete}`, concrete.replace(/\/[^/]*$/, "")];
    });
    paths.push("/", "/files", "/files/", "/maybe", "/deep", "/deep/a/b/c", "/api/v1/./sessions", "/api/v1/x/../sessions", "/API/v1/sessions");
    // Characters the URL parser keeps, encodes or rewrites, in an id and between segments.
    const odd = [
      " ",
      '"',
      "<",
      ">",
      "^",
      "`",
      "{",
      "}",
      "|",
      "[",
      "]",
      "\\",
      "\t",
      "é",
      "%20",
      "%2F",
      "%2e",
      ".",
      "..",
      "~",
      "'",
      "@",
      ":",
      ";",
      "=",
      "&",
      "$",
      "!",
      "(",
      "*",
      "+",
      ",",
    ];
    for (const text of odd) {
      paths.push(`/api/v1/sessions/a${text}b`, `/api/v1/sessions/${text}`, `/api/v1/sessions/${text}/finish`, `/api/v1${text}/sessions`);
    }
    let compared = 0;
    for (const method of ["GET", "POST", "PATCH", "DELETE", "PUT"]) {
      for (const path of paths) {
        for (const origin of ["http://localhost:3000", "https://example.com"]) {
          const url = `${origin}${path}`;
          // As srvx hands it over, the URL as the client sent it; and as a Request parses it.
          const raw = () => ({ method, url }) as unknown as Request;
          expect(await answer(table.fetch(raw())), `${method} ${url}`).toBe(await answer(plain.fetch(raw())));
          const parsed = () => new Request(url.replace(/[\t]/g, ""), { method });
          expect(await answer(table.fetch(parsed())), `${method} ${url} (parsed)`).toBe(await answer(plain.fetch(parsed())));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it("reads a path without parsing the URL only where the URL parser would keep it as it is", () => {
    for (const path of ["/", "/api/v1/sessions", "/a/b~c/d-e_f.g", "/x/%41", "/a;b=c/d@e:f", "/a//b/", "/f/sess_0190e1b0"]) {
      expect(plainPath(`http://h${path}?q`)).toBe(path);
      expect(new URL(`http://h${path}?q`).pathname).toBe(path);
    }
    expect(plainPath("http://h")).toBe("/");
    expect(plainPath("http://h?x=/y")).toBe("/");
    for (const path of ["/a b", "/a/./b", "/a/../b", "/a/%2E", "/a\\b", "/é", "/a{b}", "/a^b", "/a|b", "/a\tb"]) {
      expect(plainPath(`http://h${path}`), path).toBeNull();
    }
  });

  it("refuses routes added after the first request", async () => {
    const { table } = routers();
    await table.fetch(new Request("http://h/"));
    expect(() => table.add("GET", "/late", async () => new Response(""))).toThrow(/before the first request/);
  });
});
