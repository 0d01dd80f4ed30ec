/**
 * Issue #12's acceptance, checked on the source: no function or method of the CacheShard's modules
 * takes more than three parameters (the per-request ShardCall carries what used to travel positionally).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const durable = join(__dirname, "..", "..", "..", "durable");
/** Durable Objects other than the CacheShard, which this check does not cover (yet). */
const OTHER_OBJECTS = ["health-monitor.ts", "health-probe.ts", "event-log.ts", "metrics-collector.ts", "rate-limiter.ts", "slm-monitor.ts"];
const MAX_PARAMETERS = 3;

function wideFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(durable, file), "utf8"), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && !ts.isFunctionTypeNode(node) && node.parameters.length > MAX_PARAMETERS) {
      const name = node.name?.getText(source) ?? "(anonymous)";
      found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1} ${name} (${node.parameters.length})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const shardFiles = readdirSync(durable).filter((name) => name.endsWith(".ts") && !OTHER_OBJECTS.includes(name));

describe("the CacheShard's functions take at most three parameters", () => {
  it("finds the shard's modules", () => {
    expect(shardFiles).toEqual(expect.arrayContaining(["cache-shard.ts", "read-path.ts", "write-path.ts", "shard-call.ts"]));
  });

  it.each(shardFiles)("%s", (file) => {
    expect(wideFunctions(file)).toEqual([]);
  });
});

describe("stored data is decoded, never cast", () => {
  it.each(shardFiles)("%s casts nothing to a stored record or a counter name", (file) => {
    const code = readFileSync(join(durable, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    expect(code).not.toMatch(/\bas\s+(StoredMeta|StoredObject|ShardOutcome|ShardRequests|OpenFlight|keyof\s)/);
  });
});
