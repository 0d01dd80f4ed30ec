/**
 * The public API of the pure RFC 9111 shared-cache policy layer (plus RFC 9110, 5861, 9211, 9213):
 * no runtime bindings, no clock — every time-dependent function takes `now`.
 */
export type * from "./types";
export { parseCacheControl, effectiveCacheControl, cacheControlSource, formatCacheControl } from "./cache-control";
export type { CacheControl, CacheControlSource, Directive } from "./cache-control";
export { canStore, postResponseStorableAsGet } from "./storability";
export type { CanStoreOptions } from "./storability";
export { buildStoredMeta } from "./stored-meta";
export { variantKeyFor, selectVariant } from "./vary";
export { evaluateReuse, forwardReasonFor } from "./reuse";
export { canServeStaleOnError, staleOnOriginFailure, withinGrace, type StaleOnFailureVerdict } from "./stale";
export { currentAgeSeconds } from "./age";
export { headersForServe } from "./headers";
export { conditionalHeadersFor, freshenWithNotModified } from "./validation";
export { clientConditionalMatches, notModifiedHeaders } from "./conditional";
export { invalidationTargets } from "./invalidation";
export { planRange } from "./range";
export { combineParts, partialAnswer, storedAnswers, storedPart } from "./partial";
export type { ContentRange, StoredPart } from "./partial";
export type { RangePlan } from "./range";
export { isRequestOnlyIfCached, requestForbidsStoring } from "./request-directives";
export { parseHttpDate } from "./dates";
export { declaredLength } from "./content-length";
export { renderCacheStatus } from "./cache-status";
export { reasonText, cacheInfo } from "./reasons";
export type { CacheInfo } from "./reasons";
export { refreshAheadStartsAt, refreshDecision } from "./refresh";
export type { RefreshDecision, RefreshPolicy } from "./refresh";
