/**
 * Loading the config document for the request path: read from KV at most once per memo period per
 * isolate, and keep the last good version whenever KV fails or holds something invalid, so a bad
 * write or an outage never takes the cache down. Problems are reported once per distinct problem,
 * not once per request.
 */
import type { Result } from "../lib/result";
import type { EpochMillis, Millis } from "../lib/units";

export interface LoadedConfig<C> {
  config: C;
  /** Identifies the version in use (changes whenever the stored text changes). */
  version: string;
  /** Where this version came from. */
  source: "kv" | "default";
}

export interface ConfigLoaderOptions<C> {
  read(): Promise<string | null>;
  parse(raw: unknown): Result<C, { path: string; message: string }[]>;
  fallback: C;
  memoMs: Millis;
  report(problem: string): void;
}

export class ConfigLoader<C> {
  #current: LoadedConfig<C>;
  #checkedAt: EpochMillis = Number.NEGATIVE_INFINITY;
  #lastText: string | null = null;
  #lastProblem: string | null = null;
  #inFlight: Promise<LoadedConfig<C>> | null = null;

  constructor(private readonly opts: ConfigLoaderOptions<C>) {
    this.#current = { config: opts.fallback, version: "default", source: "default" };
  }

  /** The memoised config when it is still within its memo period, else null (then call `get`): no promise on the hot path. */
  fresh(now: EpochMillis): LoadedConfig<C> | null {
    return now - this.#checkedAt < this.opts.memoMs ? this.#current : null;
  }

  /** The config to use now; refreshes from KV when the memo period has passed (one read at a time). */
  async get(now: EpochMillis): Promise<LoadedConfig<C>> {
    if (now - this.#checkedAt < this.opts.memoMs) return this.#current;
    this.#inFlight ??= this.#refresh(now).finally(() => (this.#inFlight = null));
    return this.#inFlight;
  }

  async #refresh(now: EpochMillis): Promise<LoadedConfig<C>> {
    let text: string | null;
    try {
      text = await this.opts.read();
    } catch (error) {
      this.#problem(`config: KV read failed, keeping the last good config (${error instanceof Error ? error.message : String(error)})`);
      this.#checkedAt = now;
      return this.#current;
    }
    this.#checkedAt = now;
    if (text === this.#lastText) return this.#current;
    this.#lastText = text;
    if (text === null) {
      this.#current = { config: this.opts.fallback, version: "default", source: "default" };
      return this.#current;
    }
    this.#current = this.#parse(text) ?? this.#current;
    return this.#current;
  }

  #parse(text: string): LoadedConfig<C> | null {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      this.#problem(`config: stored config is not JSON, keeping the last good config (${error instanceof Error ? error.message : String(error)})`);
      return null;
    }
    const parsed = this.opts.parse(raw);
    if (!parsed.ok) {
      this.#problem(`config: stored config is invalid, keeping the last good config: ${parsed.error.map((e) => `${e.path}: ${e.message}`).join("; ")}`);
      return null;
    }
    this.#lastProblem = null;
    return { config: parsed.value, version: versionOf(text), source: "kv" };
  }

  #problem(problem: string): void {
    if (problem === this.#lastProblem) return;
    this.#lastProblem = problem;
    this.opts.report(problem);
  }
}

/** A short, stable fingerprint of the stored text (FNV-1a), so versions compare cheaply. */
export function versionOf(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}
