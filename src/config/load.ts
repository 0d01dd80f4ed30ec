/**
 * Loading the config document for the request path: read from KV at most once per memo period per
 * isolate, held in a CachedValue (src/lib/cached-value.ts): the request that starts a read awaits it,
 * requests meanwhile use the config in use, and none awaits a read another request started. A valid document is used and persisted as the last good one (src/config/last-good.ts);
 * when KV holds no document or an invalid one, the persisted last good document is used instead, so
 * a bad write never drops the cluster's rules even in an isolate that never saw a good one. Built-in
 * defaults only when no good document ever existed. Problems are reported once per distinct problem,
 * not once per request; falling back to the last good document is SERIOUS (rules may be out of date).
 */
import type { EventLevel } from "../events/events";
import type { Result } from "../lib/result";
import { CachedValue } from "../lib/cached-value";
import type { EpochMillis, Millis } from "../lib/units";

export type ConfigSource = "kv" | "last-good" | "default";

export interface LoadedConfig<C> {
  config: C;
  /** Identifies the version in use (changes whenever the stored text changes). */
  version: string;
  /** Where this version came from: `config` itself, the persisted last good document, or built-in defaults. */
  source: ConfigSource;
}

export interface ConfigLoaderOptions<C> {
  read(): Promise<string | null>;
  /** The persisted last good document (`config:last-good`). */
  readLastGood(): Promise<string | null>;
  /** Persists a valid document as the last good one (called when a new valid text is first read). */
  writeLastGood(text: string): Promise<void>;
  parse(raw: unknown): Result<C, { path: string; message: string }[]>;
  fallback: C;
  memoMs: Millis;
  report(problem: string, level: EventLevel): void | Promise<void>;
}

type Parsed<C> = { ok: true; loaded: LoadedConfig<C> } | { ok: false; problem: string };

export class ConfigLoader<C> {
  /** The config this loader last settled on (set as soon as a read is parsed, so an overlapping read's `#lastText` check agrees with it). */
  #current: LoadedConfig<C>;
  readonly #memo: CachedValue<LoadedConfig<C>>;
  #lastText: string | null | undefined = undefined;
  #lastProblem: string | null = null;

  constructor(private readonly opts: ConfigLoaderOptions<C>) {
    this.#current = { config: opts.fallback, version: "default", source: "default" };
    // A failed KV read never rejects (#refresh keeps the config in use), so it is memoised like a good one.
    this.#memo = new CachedValue(() => this.#refresh(), opts.memoMs);
  }

  /** The memoised config when it is still within its memo period, else null (then call `get`): no promise on the hot path. */
  fresh(now: EpochMillis): LoadedConfig<C> | null {
    return this.#memo.isFresh(now) ? this.#memo.held!.value : null;
  }

  /**
   * The config to use now. After the memo period the caller that starts the KV read awaits it (so
   * the first request after a change sees it); callers meanwhile get the config in use at once.
   */
  get(now: EpochMillis): Promise<LoadedConfig<C>> {
    return this.#memo.get(now);
  }

  async #refresh(): Promise<LoadedConfig<C>> {
    let text: string | null;
    try {
      text = await this.opts.read();
    } catch (error) {
      await this.#problem(`config: KV read failed, keeping the config in use (${message(error)})`, "WARNING");
      return this.#current;
    }
    if (text === this.#lastText) return this.#current;
    this.#lastText = text;
    const parsed = text === null ? ({ ok: false, problem: "config: no document in KV" } as const) : this.#parse(text);
    if (parsed.ok) {
      this.#lastProblem = null;
      this.#current = parsed.loaded;
      // "First read": the isolate that first sees a valid document records it (a no-op when it already is).
      await this.opts.writeLastGood(text!).catch((error: unknown) => this.#problem(`config: could not persist the last good config (${message(error)})`, "WARNING"));
      return this.#current;
    }
    this.#current = await this.#lastGood(parsed.problem);
    return this.#current;
  }

  /**
   * `config` is missing or invalid: the persisted last good document. Built-in defaults when there is
   * none (someone deleted it along with `config`, or no good document ever existed); the document in
   * memory only while the last good one cannot be read at all (a KV outage is not a reset).
   */
  async #lastGood(problem: string): Promise<LoadedConfig<C>> {
    let text: string | null;
    try {
      text = await this.opts.readLastGood();
    } catch (error) {
      await this.#problem(`${problem}; reading the last good config failed (${message(error)}), keeping ${this.#current.version}`, "SERIOUS");
      return this.#current;
    }
    const persisted = text === null ? null : this.#parse(text);
    if (persisted?.ok) {
      await this.#problem(`${problem}; using the last good config ${persisted.loaded.version}`, "SERIOUS");
      return { ...persisted.loaded, source: "last-good" };
    }
    // No document and no good one recorded is a fresh install (or a deliberate reset): defaults, nothing to report.
    if (this.#lastText !== null) await this.#problem(`${problem}; no usable last good config, running on built-in defaults`, "SERIOUS");
    return { config: this.opts.fallback, version: "default", source: "default" };
  }

  #parse(text: string): Parsed<C> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      return { ok: false, problem: `config: stored config is not JSON (${message(error)})` };
    }
    const parsed = this.opts.parse(raw);
    if (!parsed.ok) return { ok: false, problem: `config: stored config is invalid: ${parsed.error.map((e) => `${e.path}: ${e.message}`).join("; ")}` };
    return { ok: true, loaded: { config: parsed.value, version: versionOf(text), source: "kv" } };
  }

  async #problem(problem: string, level: EventLevel): Promise<void> {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    try {
      await this.opts.report(problem, level);
    } catch {
      // Reporting is best effort: a failing event log must not fail config loading.
    }
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A short, stable fingerprint of the stored text (FNV-1a), so versions compare cheaply. */
export function versionOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}
