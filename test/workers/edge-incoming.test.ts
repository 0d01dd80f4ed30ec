/**
 * Internal field injection at the client → edge boundary: a client's X-Cluster-* fields are hidden
 * from everything that reads the request at the edge — rules, the key, rate contexts
 * (src/edge/request-fields.ts) — and removed from every request that leaves it (src/edge/forwarding.ts,
 * the admin API's), unless the request carries the cluster token; the token itself is never read nor
 * sent further. The rules are the reader here: a rule that matches on such a field sees it only when
 * it is trusted (test/workers/request-path.test.ts checks what reaches the origin).
 */
import { SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { putConfig } from "../helpers/config";
import { uniquePath } from "../helpers/origin";

const BASE = "http://cache.test";
// vitest.config.ts gives the test worker this CLUSTER_TOKEN.
const TOKEN = "test-cluster-token";

describe("internal field injection: a client's X-Cluster-* fields", () => {
  const prefix = uniquePath("incoming");
  beforeEach(async () => {
    await putConfig({
      rules: [
        { name: "debug", match: { path: `${prefix}/debug/**`, headers: { "x-cluster-debug": true } }, actions: { deny: { status: 451, body: "debug\n" } } },
        { name: "token", match: { path: `${prefix}/token/**`, headers: { "x-cluster-token": true } }, actions: { deny: { status: 452, body: "token\n" } } },
      ],
    });
  });
  const status = async (path: string, headers: Record<string, string>) => {
    const response = await SELF.fetch(`${BASE}${prefix}${path}`, { headers });
    await response.arrayBuffer();
    return response.status;
  };

  it("are removed without the cluster token, whatever their case or number", async () => {
    expect(await status("/debug/a", { "X-Cluster-Debug": "1" })).toBe(200);
    expect(await status("/debug/b", { "x-cluster-debug": "1", "x-cluster-other": "2", "x-custom": "kept" })).toBe(200);
  });

  it("are removed with a wrong or empty token", async () => {
    expect(await status("/debug/c", { "x-cluster-debug": "1", "x-cluster-token": "wrong" })).toBe(200);
    expect(await status("/debug/d", { "x-cluster-debug": "1", "x-cluster-token": "" })).toBe(200);
  });

  it("reach the rules with the cluster token", async () => {
    expect(await status("/debug/e", { "x-cluster-debug": "1", "x-cluster-token": TOKEN })).toBe(451);
  });

  it("never include the token itself, even when it is right", async () => {
    expect(await status("/token/a", { "x-cluster-token": TOKEN })).toBe(200);
    expect(await status("/token/b", { "x-cluster-token": "wrong" })).toBe(200);
  });
});
