import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The speaker's Prometheus metrics: MetalLB's layer-2 names where they exist, `baremetal_lb_*`
 * for ours.
 *
 * @example
 * const m = createSpeakerMetrics();
 * m.requestsReceived.inc({ ip: "192.168.126.40" });
 */
export function createSpeakerMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    announced: new Gauge({
      name: "metallb_speaker_announced",
      help: "Services being announced from this node",
      labelNames: ["service", "protocol", "node", "ip"],
      registers,
    }),
    requestsReceived: new Counter({
      name: "metallb_layer2_requests_received",
      help: "Number of layer2 requests (ARP requests and neighbour solicitations) received for owned IPs",
      labelNames: ["ip"],
      registers,
    }),
    responsesSent: new Counter({
      name: "metallb_layer2_responses_sent",
      help: "Number of layer2 responses sent for owned IPs",
      labelNames: ["ip"],
      registers,
    }),
    gratuitousSent: new Counter({
      name: "metallb_layer2_gratuitous_sent",
      help: "Number of gratuitous layer2 packets sent for owned IPs",
      labelNames: ["ip"],
      registers,
    }),
    announceInterfaces: new Gauge({
      name: "baremetal_lb_announce_interface",
      help: "1 for each interface an owned IP is announced on",
      labelNames: ["ip", "interface"],
      registers,
    }),
    framesDropped: new Counter({
      name: "baremetal_lb_frames_dropped_total",
      help: "Malformed frames dropped, by reason",
      labelNames: ["reason"],
      registers,
    }),
    heartbeatsDropped: new Counter({
      name: "baremetal_lb_heartbeats_dropped_total",
      help: "Malformed heartbeat datagrams dropped, by reason",
      labelNames: ["reason"],
      registers,
    }),
    arpConflicts: new Counter({
      name: "baremetal_lb_arp_conflicts_total",
      help: "Times another MAC claimed an IP this node announces",
      labelNames: ["ip", "mac"],
      registers,
    }),
    arpConflictActive: new Gauge({
      name: "baremetal_lb_arp_conflict",
      help: "1 while another MAC has recently claimed an IP this node announces",
      labelNames: ["ip"],
      registers,
    }),
    strictArpOk: new Gauge({
      name: "baremetal_lb_strict_arp_ok",
      help: "0 when kube-proxy runs IPVS and this node's effective arp_ignore is below 1",
      labelNames: ["node"],
      registers,
    }),
    leaseRenewFailures: new Counter({
      name: "baremetal_lb_lease_renew_failures_total",
      help: "Failed renewals of this speaker's Lease",
      registers,
    }),
    fenced: new Gauge({
      name: "baremetal_lb_speaker_fenced",
      help: "1 while this speaker may not announce (its Lease is not renewed in time)",
      registers,
    }),
    liveSpeakers: new Gauge({
      name: "baremetal_lb_live_speakers",
      help: "Speakers this speaker counts as live",
      registers,
    }),
    fastPathTrusted: new Gauge({
      name: "baremetal_lb_fast_path_trusted",
      help: "1 while this speaker hears a majority of lease-live speakers over the heartbeat fast path",
      registers,
    }),
  };
}

export type SpeakerMetrics = ReturnType<typeof createSpeakerMetrics>;
