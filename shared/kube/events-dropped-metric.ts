import { Counter, type Registry } from "prom-client";
import type { EventDropReason } from "./event-recorder.ts";

const reasons: readonly EventDropReason[] = ["spam", "queue-full"];

/**
 * `baremetal_lb_events_dropped_total{reason}`, the one counter both binaries feed from their EventRecorder's
 * `onDropped`; every reason is exported from the start, so increase() sees the first drop.
 *
 * @example
 * const dropped = eventsDroppedCounter([registry]);
 * new EventRecorder(api, "metallb-speaker", log, node, { onDropped: (reason, n) => dropped.inc({ reason }, n) });
 */
export function eventsDroppedCounter(registers: Registry[]): Counter<"reason"> {
  const counter = new Counter({
    name: "baremetal_lb_events_dropped_total",
    help: "Kubernetes Events not written, by reason: spam (the object's Event budget was spent, as client-go's spam filter) or queue-full",
    labelNames: ["reason"],
    registers,
  });
  for (const reason of reasons) counter.inc({ reason }, 0);
  return counter;
}
