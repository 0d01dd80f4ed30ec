/**
 * Load-balancing algorithms that pick an origin node from a health snapshot; pure and
 * deterministic apart from the injected random source, so a Durable Object can own one selector
 * per pool and tests can replay any sequence.
 */
import type { LbAlgorithm, NodeState } from "../config/pools";
import { hashString, mixHashes } from "../routing/hash";

export type NodeView = {
  /** Stable identity of the node (its URL): selector state is keyed by it, not by position. */
  id: string;
  weight: number;
  state: NodeState;
  /** Passive and active health combined (see `nodeHealthy`). */
  healthy: boolean;
  activeConnections: number;
  /** Smoothed response time (see `ewma`), or null before the first sample. */
  ewmaResponseMs: number | null;
  /** Priority group (higher first); absent means 1. */
  priority?: number;
};

export interface Selector {
  readonly algorithm: LbAlgorithm;
  /**
   * The node for the next request, or null when no node is eligible — the caller then decides
   * between serving stale and answering 503. `exclude` holds nodes already tried for this request.
   */
  pick(nodes: readonly NodeView[], exclude?: ReadonlySet<string>): NodeView | null;
}

const none: ReadonlySet<string> = new Set();

/**
 * A node may take a new request only when active (draining nodes finish what they have), healthy,
 * not already tried, and of positive weight (weight 0 is read as "no share of traffic").
 */
export function isEligible(node: NodeView, exclude: ReadonlySet<string> = none): boolean {
  return node.state === "active" && node.healthy && !exclude.has(node.id) && Number.isFinite(node.weight) && node.weight > 0;
}

export function createSelector(algorithm: LbAlgorithm, random: () => number): Selector {
  switch (algorithm) {
    case "round-robin":
      return rotatingSelector(algorithm, (eligible) => eligible);
    case "weighted-round-robin":
      return smoothWeightedSelector();
    case "least-connections":
      return rotatingSelector(algorithm, leastConnected);
    case "fastest-response-time":
      return rotatingSelector(algorithm, fastest);
    case "random":
      return {
        algorithm,
        pick: (nodes, exclude) =>
          weightedRandom(
            nodes.filter((n) => isEligible(n, exclude)),
            random,
          ),
      };
  }
}

/**
 * Shared rotation: `best` narrows the eligible nodes to the equally good ones, and among those the
 * first one after the previously picked node (in snapshot order, wrapping) wins. Remembering the
 * last id rather than a counter keeps the rotation fair when nodes join, leave or are excluded; if
 * the last node left the pool, its successor has moved into its position, so rotation resumes there.
 */
function rotatingSelector(algorithm: LbAlgorithm, best: (eligible: NodeView[]) => NodeView[]): Selector {
  let last: { id: string; index: number } | null = null;
  return {
    algorithm,
    pick(nodes, exclude) {
      const candidates = new Set(best(nodes.filter((n) => isEligible(n, exclude))));
      if (candidates.size === 0) return null;
      const prev = last;
      const prevAt = prev === null ? -1 : nodes.findIndex((n) => n.id === prev.id);
      const start = prev === null ? 0 : prevAt >= 0 ? prevAt + 1 : prev.index;
      for (let i = 0; i < nodes.length; i++) {
        const index = (start + i) % nodes.length;
        const node = nodes[index]!;
        if (candidates.has(node)) {
          last = { id: node.id, index };
          return node;
        }
      }
      return null; // unreachable: every candidate is in `nodes`
    },
  };
}

/** Fewest active connections; a tie goes to the heavier node, so weights still mean capacity. */
function leastConnected(eligible: NodeView[]): NodeView[] {
  const fewest = Math.min(...eligible.map((n) => n.activeConnections));
  const tied = eligible.filter((n) => n.activeConnections === fewest);
  const heaviest = Math.max(...tied.map((n) => n.weight));
  return tied.filter((n) => n.weight === heaviest);
}

/**
 * Lowest smoothed response time. Nodes never sampled come first: without a sample they could never
 * be compared, and a node that is never picked would never get one.
 */
function fastest(eligible: NodeView[]): NodeView[] {
  const unsampled = eligible.filter((n) => n.ewmaResponseMs === null);
  if (unsampled.length > 0) return unsampled;
  const lowest = Math.min(...eligible.map((n) => n.ewmaResponseMs!));
  return eligible.filter((n) => n.ewmaResponseMs === lowest);
}

/**
 * Smooth weighted round robin as in nginx: every pick adds each eligible node's weight to its
 * running score, takes the highest score and subtracts the total weight from it. With integer
 * weights each node is picked exactly `weight` times per cycle of `sum(weights)` picks, and the
 * picks are interleaved (5,1,1 gives a a b a c a a, not a a a a a b c).
 */
function smoothWeightedSelector(): Selector {
  const score = new Map<string, number>();
  return {
    algorithm: "weighted-round-robin",
    pick(nodes, exclude) {
      // Forget nodes that left the pool so the map cannot grow without bound.
      const present = new Set(nodes.map((n) => n.id));
      for (const id of score.keys()) if (!present.has(id)) score.delete(id);
      let total = 0;
      let best: NodeView | null = null;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const node of nodes) {
        if (!isEligible(node, exclude)) continue;
        const s = (score.get(node.id) ?? 0) + node.weight;
        score.set(node.id, s);
        total += node.weight;
        if (s > bestScore) [best, bestScore] = [node, s];
      }
      if (best !== null) score.set(best.id, bestScore - total);
      return best;
    },
  };
}

function weightedRandom(eligible: NodeView[], random: () => number): NodeView | null {
  if (eligible.length === 0) return null;
  const total = eligible.reduce((sum, n) => sum + n.weight, 0);
  // A misbehaving source (NaN, 1, negative) is clamped into [0, 1) rather than trusted.
  const r = random();
  let point = (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1 - Number.EPSILON) : 0) * total;
  for (const node of eligible) {
    if (point < node.weight) return node;
    point -= node.weight;
  }
  return eligible[eligible.length - 1]!; // only reachable through floating-point rounding
}

/**
 * Exponentially weighted moving average of response times: recent samples dominate, so a node
 * that slows down loses traffic within a few requests. Negative samples (clock steps) count as 0.
 */
export function ewma(prev: number | null, sampleMs: number, alpha = 0.3): number {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`ewma alpha must be in (0, 1], got ${alpha}`);
  if (!Number.isFinite(sampleMs)) throw new RangeError(`ewma sample must be finite, got ${sampleMs}`);
  const sample = Math.max(0, sampleMs);
  return prev === null ? sample : alpha * sample + (1 - alpha) * prev;
}

/**
 * Priority lists: the eligible nodes of the highest priority group, joined by the next groups
 * down until at least `minNodes` are in (fewer if the whole pool has fewer). Empty when no node is
 * eligible, which is when a failpool takes over.
 */
export function priorityCandidates(nodes: readonly NodeView[], minNodes: number, exclude: ReadonlySet<string> = none): NodeView[] {
  const eligible = nodes.filter((n) => isEligible(n, exclude));
  const priorities = [...new Set(eligible.map((n) => n.priority ?? 1))].sort((a, b) => b - a);
  if (priorities.length <= 1) return eligible;
  let floor = priorities[0]!;
  for (const p of priorities) {
    floor = p;
    if (eligible.filter((n) => (n.priority ?? 1) >= p).length >= minNodes) break;
  }
  return eligible.filter((n) => (n.priority ?? 1) >= floor);
}

/**
 * The opaque token a session cookie carries for a node: a hash of its URL, so the cookie neither
 * reveals the back-end address nor lets a client name an arbitrary one — an unknown token matches
 * no node and is ignored.
 */
export function nodeToken(id: string): string {
  const h = hashString(id);
  return (h.hi >>> 0).toString(36) + (h.lo >>> 0).toString(36);
}

/** The node a session cookie names, if it may take a request now (a working node keeps its sessions, whatever its priority). */
export function pinnedNode(nodes: readonly NodeView[], token: string | null, exclude: ReadonlySet<string> = none): NodeView | null {
  if (token === null || token.length > 32) return null;
  return nodes.find((n) => isEligible(n, exclude) && nodeToken(n.id) === token) ?? null;
}

/**
 * Client-address persistence by weighted rendezvous hashing over `candidates`: each client keeps
 * its node while that node works, and a node that fails moves only its own clients.
 */
export function nodeForClient(candidates: readonly NodeView[], clientIp: string): NodeView | null {
  const client = hashString(clientIp);
  let best: NodeView | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const node of candidates) {
    // -w / ln(u) is the weighted HRW score: a node of weight 2 wins twice as many clients.
    const score = -node.weight / Math.log(mixHashes(hashString(node.id), client));
    if (score > bestScore) [best, bestScore] = [node, score];
  }
  return best;
}
