/**
 * Which Events to write, and how, for a stream of record() calls: client-go's EventCorrelator
 * (k8s.io/client-go/tools/record/events_cache.go) as a value with no API client in it. Time is
 * passed in, so tables of (request, time) → outcome test it.
 */
import { TokenBucket } from "./token-bucket.ts";

/** The object an Event is about. */
export interface EventTarget {
  kind: string;
  apiVersion: string;
  name: string;
  /** Empty for cluster-scoped objects (Nodes); their Events go to "default", as kubelet's do. */
  namespace?: string;
  uid?: string;
}

export type EventType = "Normal" | "Warning";

/** One record() call. */
export interface EventRequest {
  target: EventTarget;
  type: EventType;
  reason: string;
  message: string;
}

/**
 * An Event as it should stand on the API server. The correlator keeps one per dedup key and updates
 * it in place on each repeat; the writer reads it when it sends, so repeats that arrive while a
 * write waits go out in that one write with their full count.
 */
export interface CorrelatedEvent {
  /** The dedup key: a repeat with this key bumps `count` instead of creating another Event. */
  readonly key: string;
  readonly target: EventTarget;
  /** Where the Event lives: the object's namespace, or "default" for cluster-scoped objects. */
  readonly namespace: string;
  /** metadata.name, `${target.name}.${hex}` as client-go names them. */
  name: string;
  readonly type: EventType;
  readonly reason: string;
  message: string;
  count: number;
  /** Epoch milliseconds. */
  firstTimestamp: number;
  lastTimestamp: number;
  /** True once the writer has created it: a repeat then patches count, lastTimestamp and message. */
  onServer: boolean;
}

/** The outcome of one request: the Event to write, or `spam` when the object's budget is spent. */
export interface Correlation {
  event: CorrelatedEvent;
  /** The object's token bucket was empty: write nothing for this request (its count still rose). */
  spam: boolean;
}

/** Limits, all defaulting to client-go's. */
export interface EventCorrelatorOptions {
  /** Keys remembered per cache (dedup, aggregation, spam), least recently used forgotten first. Default 4096. */
  maxRemembered?: number;
  /** The n-th distinct message for one (object, type, reason) within the interval becomes a combined Event. Default 10. */
  aggregateMaxEvents?: number;
  /** Similar events further apart than this start counting afresh. Default 10 minutes. */
  aggregateIntervalMs?: number;
  /** Events one object may have in a burst. Default 25. */
  spamBurst?: number;
  /** Then one more per this many milliseconds. Default 5 minutes. */
  spamRefillEveryMs?: number;
}

/** The message of a combined Event, as client-go's EventAggregatorByReasonMessageFunc writes it. */
export const aggregatePrefix = "(combined from similar events): ";

/** Separates key fields; it cannot occur in a Kubernetes name, kind, reason or UID. */
const sep = "\u0000";

interface SimilarEvents {
  /** Distinct messages seen, oldest first. */
  messages: Set<string>;
  last: number;
}

/**
 * Correlates Event requests the way client-go does, in its order:
 * 1. Aggregation: requests alike in object, type and reason but not message are "similar". When
 *    `aggregateMaxEvents` distinct messages have been seen with no gap above `aggregateIntervalMs`,
 *    the request becomes one combined Event per (object, type, reason), message
 *    `"(combined from similar events): " + latest message`.
 * 2. Dedup: a request identical to a remembered one (object incl. uid, type, reason, message —
 *    or the same combined Event) bumps that Event's `count` and `lastTimestamp`.
 * 3. Spam filter: each object has a token bucket (burst 25, one more per 5 minutes); a request
 *    finding it empty is marked `spam` and not written, though the Event's count still rose.
 *
 * One correlator serves one recorder, so the source (component, host) is the same for every
 * request and is left out of the keys. Memory is bounded: each cache holds `maxRemembered` keys.
 *
 * @example
 * const correlator = new EventCorrelator();
 * const { event, spam } = correlator.correlate({ target, type: "Normal", reason: "IPAllocated", message }, Date.now());
 * if (!spam) write(event.onServer ? "patch" : "create", event);
 */
export class EventCorrelator {
  private readonly maxRemembered: number;
  private readonly aggregateMaxEvents: number;
  private readonly aggregateIntervalMs: number;
  private readonly spamBurst: number;
  private readonly spamRefillEveryMs: number;
  private readonly events = new Map<string, CorrelatedEvent>();
  private readonly similar = new Map<string, SimilarEvents>();
  private readonly spam = new Map<string, TokenBucket>();
  private sequence = 0;

  constructor(opts: EventCorrelatorOptions = {}) {
    this.maxRemembered = opts.maxRemembered ?? 4096;
    this.aggregateMaxEvents = opts.aggregateMaxEvents ?? 10;
    this.aggregateIntervalMs = opts.aggregateIntervalMs ?? 10 * 60_000;
    this.spamBurst = opts.spamBurst ?? 25;
    this.spamRefillEveryMs = opts.spamRefillEveryMs ?? 5 * 60_000;
  }

  /** Aggregates, dedups and spam-filters one request at `now` (epoch ms). */
  correlate(req: EventRequest, now: number): Correlation {
    const { target, type, reason } = req;
    const namespace = target.namespace || "default";
    const objectKey = [target.kind, target.apiVersion, namespace, target.name, target.uid ?? ""].join(sep);
    const similarKey = [objectKey, type, reason].join(sep);

    let key = [similarKey, req.message].join(sep);
    let message = req.message;
    let similar = this.similar.get(similarKey);
    if (!similar || now - similar.last > this.aggregateIntervalMs) similar = { messages: new Set(), last: now };
    similar.messages.delete(req.message);
    similar.messages.add(req.message);
    similar.last = now;
    remember(this.similar, similarKey, similar, this.maxRemembered);
    if (similar.messages.size >= this.aggregateMaxEvents) {
      // As client-go: keep the set one short of the threshold, so every further new message aggregates.
      similar.messages.delete(similar.messages.keys().next().value as string);
      key = similarKey;
      message = aggregatePrefix + req.message;
    }

    let event = this.events.get(key);
    if (event) {
      event.count += 1;
      event.lastTimestamp = now;
      event.message = message;
    } else {
      event = {
        key,
        target: { ...target },
        namespace,
        name: this.newName(target.name, now),
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        onServer: false,
      };
    }
    remember(this.events, key, event, this.maxRemembered);

    let bucket = this.spam.get(objectKey);
    if (!bucket) bucket = new TokenBucket({ burst: this.spamBurst, refillEveryMs: this.spamRefillEveryMs }, now);
    remember(this.spam, objectKey, bucket, this.maxRemembered);
    return { event, spam: !bucket.take(now) };
  }

  /**
   * Starts `event` afresh under a new name, not on the server, counting from `now`: after its Event
   * vanished (a patch found 404: it expired or was deleted) or its name was taken (a create found
   * 409). `unsent` repeats that arrived after the failed write was built are kept in the count.
   */
  restart(event: CorrelatedEvent, now: number, unsent: number): void {
    event.name = this.newName(event.target.name, now);
    event.onServer = false;
    event.count = 1 + unsent;
    event.firstTimestamp = now;
    event.lastTimestamp = Math.max(event.lastTimestamp, now);
  }

  /** `${name}.${hex}`: the time in microseconds-ish plus a sequence, unique per recorder. */
  private newName(objectName: string, now: number): string {
    return `${objectName}.${(Math.floor(now) * 1000 + (this.sequence++ % 1000)).toString(16)}`;
  }
}

/** Puts `key` last (most recently used) and forgets the least recently used beyond `max`. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}
