/**
 * Admin endpoints that read or change the config document beyond GET/PUT of the whole thing:
 * history (GET /config/versions), rollback (POST /config/rollback), a diff of a candidate against
 * the stored document (POST /config/diff), and day-two edits of one resource (a pool node's state,
 * one rule by name). Every change goes through `acceptConfig`, so it is validated, numbered and
 * announced like a PUT.
 */
import type { IRequest } from "itty-router";
import { diffConfig, summariseChanges } from "../config/diff";
import { parseConfig } from "../config/document";
import { addRule, type EditProblem, removeRule, setNodeState } from "../config/edit";
import type { ConfigError } from "../config/errors";
import { readVersion, readVersionIndex } from "../config/history";
import { versionOf } from "../config/load";
import type { NodeState } from "../config/pools";
import type { NewEvent } from "../events/events";
import type { Result } from "../lib/result";
import { acceptConfig, actorOf, type ConfigChangeDeps, storedDocument } from "./config-change";

type Json = (body: unknown, status?: number, headers?: Record<string, string>) => Response;
type Body = { ok: true; value: unknown; text: string } | { ok: false; errors: ConfigError[] };

export interface ConfigRouteHelpers {
  json: Json;
  jsonBody(request: IRequest): Promise<Body>;
}

const STORED_NOT_JSON = "the stored config is not valid JSON; replace it with PUT /config or roll back first";

/** Pretty-printed, as `config pull` shows it: a document edited by the API stays readable. */
const render = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;

export function configRoutes({ json, jsonBody }: ConfigRouteHelpers) {
  const refused = (errors: ConfigError[]) => json({ ok: false, errors }, 400);
  const problem = (p: EditProblem) => json({ ok: false, error: p.message }, p.status);

  /** Applies an edit of the stored document, then accepts the result (every schema error is reported). */
  async function applyEdit<T>(request: IRequest, deps: ConfigChangeDeps, edit: (doc: unknown) => Result<T & { doc: unknown }, EditProblem>, describe: (value: T) => string, event?: (value: T) => Omit<NewEvent, "time">): Promise<Response> {
    const stored = await storedDocument(deps);
    if (stored === null) return json({ ok: false, error: STORED_NOT_JSON }, 409);
    const edited = edit(stored.value);
    if (!edited.ok) return problem(edited.error);
    const what = describe(edited.value);
    const accepted = await acceptConfig(deps, render(edited.value.doc), actorOf(request as unknown as Request), what);
    if (!accepted.ok) return refused(accepted.errors);
    if (event !== undefined) await deps.events.append([{ ...event(edited.value), time: deps.now() }]).catch(() => {});
    return json({ ok: true, version: accepted.entry.version, hash: accepted.entry.hash, summary: what });
  }

  const nodeState = (state: NodeState, verb: string, level: NewEvent["level"]) => (request: IRequest, deps: ConfigChangeDeps) => {
    const pool = decodeURIComponent(request.params.pool ?? "");
    const node = decodeURIComponent(request.params.node ?? "");
    return applyEdit(
      request,
      deps,
      (doc) => setNodeState(doc, pool, node, state),
      (v) => `${verb} node ${v.url} of pool ${pool} (was ${v.was})`,
      (v) => ({ level, section: `pools/${pool}`, tag: `node${verb}`, text: `Node ${v.url} of pool ${pool} set to ${state} (was ${v.was}) by ${actorOf(request as unknown as Request)}` }),
    );
  };

  return {
    versions: async (_request: IRequest, deps: ConfigChangeDeps) => {
      const index = await readVersionIndex(deps.history);
      const stored = await deps.readStoredConfig();
      return json({ latest: index.latest, active: stored === null ? "default" : versionOf(stored), versions: [...index.versions].reverse() });
    },

    rollback: async (request: IRequest, deps: ConfigChangeDeps) => {
      const body = await jsonBody(request);
      if (!body.ok) return refused(body.errors);
      const version = (body.value as { version?: unknown } | null)?.version;
      if (typeof version !== "number" || !Number.isInteger(version) || version < 1) return refused([{ path: "version", message: "expected the number of a kept version (GET /config/versions)" }]);
      const record = await readVersion(deps.history, version);
      if (record === null) return json({ ok: false, error: `version ${version} is not kept (GET /config/versions lists the kept ones)` }, 404);
      // A version valid when it was accepted may not be under today's schema: refused with its errors, nothing written.
      const accepted = await acceptConfig(deps, record.text, actorOf(request as unknown as Request), `rollback to version ${version} (${record.hash})`);
      if (!accepted.ok) return json({ ok: false, error: `version ${version} is not valid under the current schema`, errors: accepted.errors }, 409);
      return json({ ok: true, version: accepted.entry.version, restored: version, hash: accepted.entry.hash });
    },

    diff: async (request: IRequest, deps: ConfigChangeDeps) => {
      const body = await jsonBody(request);
      if (!body.ok) return refused(body.errors);
      const parsed = parseConfig(body.value);
      const stored = await storedDocument(deps);
      if (stored === null) return json({ ok: false, error: STORED_NOT_JSON }, 409);
      const changes = diffConfig(stored.value, body.value);
      return json({
        ok: parsed.ok,
        valid: parsed.ok,
        ...(parsed.ok ? {} : { errors: parsed.error }),
        active: stored.text === null ? "default" : versionOf(stored.text),
        candidate: versionOf(body.text),
        summary: summariseChanges(changes),
        changes,
      });
    },

    drainNode: nodeState("draining", "drain", "WARNING"),
    disableNode: nodeState("disabled", "disable", "WARNING"),
    enableNode: nodeState("active", "enable", "INFO"),

    addRule: async (request: IRequest, deps: ConfigChangeDeps) => {
      const body = await jsonBody(request);
      if (!body.ok) return refused(body.errors);
      const { rule, position } = (body.value ?? {}) as { rule?: unknown; position?: unknown };
      if (position !== undefined && typeof position !== "number") return refused([{ path: "position", message: "expected a number" }]);
      return applyEdit(
        request,
        deps,
        (doc) => addRule(doc, rule, position),
        (v) => `add rule ${v.name} at position ${v.position}`,
        (v) => ({ level: "INFO", section: "rules", tag: "ruleadd", text: `Rule ${v.name} added at position ${v.position} by ${actorOf(request as unknown as Request)}` }),
      );
    },

    removeRule: (request: IRequest, deps: ConfigChangeDeps) => {
      const name = decodeURIComponent(request.params.name ?? "");
      return applyEdit(
        request,
        deps,
        (doc) => removeRule(doc, name),
        (v) => `remove rule ${name} (was at position ${v.position})`,
        () => ({ level: "INFO", section: "rules", tag: "ruleremove", text: `Rule ${name} removed by ${actorOf(request as unknown as Request)}` }),
      );
    },
  };
}
