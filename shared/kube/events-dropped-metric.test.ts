import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createControllerMetrics } from "../../controller/metrics.ts";
import { createSpeakerMetrics } from "../../speaker/metrics.ts";
import { eventsDroppedCounter } from "./events-dropped-metric.ts";

describe("baremetal_lb_events_dropped_total", () => {
  it("exports every reason at 0 from the start and counts drops", async () => {
    const registry = new Registry();
    const dropped = eventsDroppedCounter([registry]);
    dropped.inc({ reason: "queue-full" }, 3);
    const text = await registry.metrics();
    expect(text).toContain('baremetal_lb_events_dropped_total{reason="spam"} 0');
    expect(text).toContain('baremetal_lb_events_dropped_total{reason="queue-full"} 3');
  });

  it("is exported by both binaries", async () => {
    for (const metrics of [createControllerMetrics(), createSpeakerMetrics()]) {
      expect(await metrics.registry.metrics()).toContain('baremetal_lb_events_dropped_total{reason="queue-full"} 0');
    }
  });
});
