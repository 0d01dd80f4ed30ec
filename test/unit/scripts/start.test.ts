/** `npm start` refuses a config file the worker would refuse, before starting anything (issue #11, finding 1). */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "shardcache-start-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npm start with a bad CONFIG", () => {
  it("exits 1 listing every error as path: message, and starts no origin and no worker", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ settings: { primaries: 0, colour: "blue" }, rules: [{ match: { path: "/a" }, actions: { edgeTtl: -1 } }] }));
    const run = promisify(execFile);
    // Ports no one listens on: a started origin or worker would show up as a bind, not as this exit.
    const failure = await run("npx", ["tsx", "scripts/start.ts"], { cwd: join(__dirname, "..", "..", ".."), env: { ...process.env, CONFIG: bad, PORT: "1", ORIGIN_PORT: "1" }, timeout: 30_000 }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain("is not a valid config (3 errors); nothing was started");
    for (const line of ["settings.primaries: Too small", "settings.colour: unknown key", "rules[0].actions.edgeTtl: Too small"]) expect(failure?.stderr).toContain(line);
  }, 40_000);
});
