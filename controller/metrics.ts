import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { keptCauses } from "../shared/config/config-source.ts";
import { eventsDroppedCounter } from "../shared/kube/events-dropped-metric.ts";

/** Per pool, what the address gauges show. */
export interface PoolUsage {
  readonly pool: string;
  readonly total: number;
  readonly inUse: number;
}

/**
 * The controller's Prometheus metrics, under MetalLB's names so existing dashboards keep working,
 * plus our own `baremetal_lb_*` additions.
 *
 * @example
 * const m = createControllerMetrics();
 * m.configStale.set(1);
 * m.readPoolUsageFrom(() => allocator.stats());
 */
export function createControllerMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const configRejections = new Counter({
    name: "baremetal_lb_config_rejections_total",
    help: `Configs not put in force (the last good one kept), by cause (${keptCauses.join(", ")})`,
    labelNames: ["cause"],
    registers,
  });
  // Every cause and reason is exported from the start, so increase() sees the first one.
  for (const cause of keptCauses) configRejections.inc({ cause }, 0);
  const eventsDropped = eventsDroppedCounter(registers);
  // The per-pool address gauges are read from the allocator when scraped, not kept up to date per allocation.
  let poolUsage: () => readonly PoolUsage[] = () => [];
  const poolGauge = (name: string, help: string, value: (u: PoolUsage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ["pool"],
      registers,
      collect() {
        this.reset();
        for (const u of poolUsage()) this.set({ pool: u.pool }, value(u));
      },
    });
  return {
    registry,
    addressesTotal: poolGauge("metallb_allocator_addresses_total", "Number of usable IP addresses, per pool (capped at 2^63)", (u) => u.total),
    addressesInUse: poolGauge("metallb_allocator_addresses_in_use_total", "Number of IP addresses in use, per pool", (u) => u.inUse),
    /** Where the per-pool address gauges read from when scraped (the controller's allocator). */
    readPoolUsageFrom(source: () => readonly PoolUsage[]): void {
      poolUsage = source;
    },
    updates: new Counter({
      name: "metallb_k8s_client_updates_total",
      help: "Number of k8s object updates that have been processed",
      registers,
    }),
    updateErrors: new Counter({
      name: "metallb_k8s_client_update_errors_total",
      help: "Number of k8s object updates that failed for some reason",
      registers,
    }),
    configLoaded: new Gauge({
      name: "metallb_k8s_client_config_loaded_bool",
      help: "1 if the MetalLB configuration was successfully loaded at least once",
      registers,
    }),
    configStale: new Gauge({
      name: "metallb_k8s_client_config_stale_bool",
      help: "1 if running on a stale configuration, because the latest config failed to load",
      registers,
    }),
    configRejections,
    allocationFailures: new Counter({
      name: "baremetal_lb_allocation_failures_total",
      help: "Allocation attempts that left a Service without an IP",
      registers,
    }),
    pendingServices: new Gauge({
      name: "baremetal_lb_pending_services",
      help: "LoadBalancer Services waiting for an IP",
      registers,
    }),
    configObjectReady: new Gauge({
      name: "baremetal_lb_config_object_ready",
      help: "1 while an IPAddressPool or L2Advertisement is in force as written, 0 while it is not (its Ready condition says why)",
      labelNames: ["kind", "name"],
      registers,
    }),
    unannouncedIps: new Gauge({
      name: "baremetal_lb_unannounced_ips",
      help: "IPs assigned to Services that no L2Advertisement applies to, so no node announces them",
      registers,
    }),
    eventsDropped,
    leader: new Gauge({
      name: "baremetal_lb_controller_leader_bool",
      help: "1 while this controller replica is the leader",
      registers,
    }),
  };
}

export type ControllerMetrics = ReturnType<typeof createControllerMetrics>;
