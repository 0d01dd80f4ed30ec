/**
 * Bridges rule actions to the RFC 9111 policy's overrides (forced TTL, serve-stale windows). The
 * response-header edits travel to the shard in `ShardRequestContext.responseHeaders` and are applied
 * there, before the cacheability test (`withResponseHeaderEdits` in durable/shard-policy.ts).
 */
import type { PolicyOverrides, StoreSetCookie } from "../rfc9111/types";
import type { Actions } from "./schema";

/**
 * The policy overrides a rule's actions ask for; `edgeTtl` is not one (the edge tier reads it directly).
 * `storeSetCookie` is the setting's value unless the rule names its own.
 */
export function policyOverridesFrom(actions: Readonly<Actions>, defaultStoreSetCookie: StoreSetCookie = "off"): PolicyOverrides {
  const overrides: PolicyOverrides = {};
  const storeSetCookie = actions.storeSetCookie ?? defaultStoreSetCookie;
  if (storeSetCookie !== "off") overrides.storeSetCookie = storeSetCookie;
  if (actions.ttl !== undefined) overrides.forcedTtlSeconds = actions.ttl;
  if (actions.staleWhileRevalidate !== undefined) overrides.staleWhileRevalidateSeconds = actions.staleWhileRevalidate;
  if (actions.staleIfError !== undefined) overrides.staleIfErrorSeconds = actions.staleIfError;
  // The dangerous exceptions travel only when a rule names them.
  if (actions.storeAuthorized === true) overrides.storeAuthorized = true;
  if (actions.ignorePrivate === true) overrides.ignorePrivate = true;
  if (actions.ignoreNoStore === true) overrides.ignoreNoStore = true;
  return overrides;
}
