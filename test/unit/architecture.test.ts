/**
 * The dependency directions ARCHITECTURE.md promises, checked on the source text: the pure core
 * never reaches the runtime, Durable Objects never import the entry flows, and entry flows reach
 * Durable Objects through types only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..", "..");

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Every import specifier in a file, with whether the import is type-only. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm)].map((m) => ({ spec: m[2]!, typeOnly: m[1] !== undefined }));
}

/** The repo-relative path an import resolves to (without extension), or the bare specifier. */
function target(file: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  return relative(root, join(root, file, "..", spec));
}

/** The pure layer: no runtime, no I/O, no clock. */
const PURE = ["src/rfc9111", "src/rules", "src/routing", "src/lib", "src/config", "src/health", "src/rates", "src/slm", "src/events", "src/observe", "src/origin/select.ts"];
const ENTRY_FLOWS = ["src/edge", "src/admin", "src/scheduled", "src/index"];

const isPure = (file: string) => PURE.some((p) => file === p || file.startsWith(`${p}/`));
const pureFiles = [...sources("src"), ...sources("durable")].filter(isPure);

describe("dependency directions", () => {
  it("finds the pure layer", () => {
    expect(pureFiles.length).toBeGreaterThan(40);
  });

  it.each(pureFiles)("%s imports only the pure layer and zod / structured-headers / re2js / microdiff", (file) => {
    for (const { spec } of imports(file)) {
      const to = target(file, spec);
      const allowed = spec === "zod" || spec === "structured-headers" || spec === "re2js" || spec === "microdiff" || (spec.startsWith(".") && isPure(`${to}.ts`)) || (spec.startsWith(".") && isPure(to));
      expect(allowed, `${file} imports ${spec}`).toBe(true);
    }
  });

  it.each(pureFiles)("%s reads no clock and does no I/O", (file) => {
    const code = readFileSync(join(root, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
    expect(code).not.toMatch(/\bDate\.now\(|\bfetch\(|\bcaches\.|cloudflare:/);
  });

  it.each(sources("durable"))("%s never imports the entry flows", (file) => {
    for (const { spec } of imports(file))
      expect(
        ENTRY_FLOWS.some((e) => target(file, spec).startsWith(e)),
        `${file} imports ${spec}`,
      ).toBe(false);
  });

  it.each([...sources("src/edge"), ...sources("src/admin"), ...sources("src/scheduled")])("%s reaches Durable Objects through types only", (file) => {
    for (const { spec, typeOnly } of imports(file)) if (target(file, spec).startsWith("durable/")) expect(typeOnly, `${file} imports ${spec} at run time`).toBe(true);
  });
});
