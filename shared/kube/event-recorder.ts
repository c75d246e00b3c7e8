import { PatchStrategy, setHeaderOptions, type CoreV1Api, type CoreV1Event } from "@kubernetes/client-node";
import type { Logger } from "../log.ts";
import { describeError, statusOf } from "./api-errors.ts";

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

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

const maxRemembered = 4096;

/**
 * Records core/v1 Events the way client-go's recorder does: a repeat of the same
 * (object, type, reason, message) bumps `count` and `lastTimestamp` on the existing Event
 * instead of creating a new one. Failures are logged, never thrown: an Event is a courtesy.
 *
 * @example
 * const events = new EventRecorder(core, "metallb-controller", log);
 * await events.record(serviceRef, "Normal", "IPAllocated", 'Assigned IP ["192.168.1.10"]');
 */
export class EventRecorder {
  private readonly core: CoreV1Api;
  private readonly component: string;
  private readonly host: string | undefined;
  private readonly log: Logger;
  private readonly seen = new Map<string, { namespace: string; name: string; count: number }>();
  private sequence = 0;

  constructor(core: CoreV1Api, component: string, log: Logger, host?: string) {
    this.core = core;
    this.component = component;
    this.log = log;
    this.host = host;
  }

  async record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const namespace = target.namespace || "default";
    const key = [target.kind, namespace, target.name, target.uid ?? "", type, reason, message].join("\u0000");
    const now = new Date();
    const previous = this.seen.get(key);
    try {
      if (previous) {
        previous.count += 1;
        this.touch(key, previous);
        try {
          await this.core.patchNamespacedEvent(
            {
              namespace: previous.namespace,
              name: previous.name,
              body: { count: previous.count, lastTimestamp: now.toISOString() },
            },
            mergePatch,
          );
          return;
        } catch (err) {
          if (statusOf(err) !== 404) throw err;
          this.seen.delete(key);
        }
      }
      const name = `${target.name}.${(Date.now() * 1000 + (this.sequence++ % 1000)).toString(16)}`;
      const body: CoreV1Event = {
        metadata: { name, namespace },
        involvedObject: {
          kind: target.kind,
          apiVersion: target.apiVersion,
          name: target.name,
          namespace: target.namespace || undefined,
          uid: target.uid,
        },
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.component, host: this.host },
        reportingComponent: this.component,
        reportingInstance: this.host ?? "",
      };
      await this.core.createNamespacedEvent({ namespace, body });
      this.touch(key, { namespace, name, count: 1 });
    } catch (err) {
      this.log.warn({ reason, object: `${target.kind}/${namespace}/${target.name}`, err: describeError(err) }, "event not recorded");
    }
  }

  private touch(key: string, value: { namespace: string; name: string; count: number }): void {
    this.seen.delete(key);
    this.seen.set(key, value);
    if (this.seen.size > maxRemembered) this.seen.delete(this.seen.keys().next().value as string);
  }
}
