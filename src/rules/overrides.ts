/**
 * Bridges rule actions to the layers that apply them: the RFC 9111 policy's overrides (forced TTL,
 * serve-stale windows) and the response-header edits made before the cacheability test.
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

/**
 * A copy of the response headers with the rule's edits: removals first, then sets, so a header
 * named in both ends up with the rule's value (remove-then-set is how a rule replaces a header).
 * The input is never modified: it may belong to a response that is already shared.
 */
export function applyResponseHeaderActions(headers: Headers, actions: Readonly<Actions>): Headers {
  const out = new Headers(headers);
  for (const name of actions.removeResponseHeaders ?? []) out.delete(name);
  for (const [name, value] of Object.entries(actions.setResponseHeaders ?? {})) out.set(name, value);
  return out;
}
