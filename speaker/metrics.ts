import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { eventsDroppedCounter } from "../shared/kube/events-dropped-metric.ts";

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
    eventsDropped: eventsDroppedCounter(registers),
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
    packetSocketDrops: new Counter({
      name: "baremetal_lb_packet_socket_drops_total",
      help: "ARP/NDP frames the kernel dropped because the speaker's packet socket queue was full (its event loop did not read them in time): requests among them went unanswered",
      labelNames: ["interface"],
      registers,
    }),
    ownedWithoutInterface: new Gauge({
      name: "baremetal_lb_owned_ips_without_interface",
      help: "IPs this node won whose L2Advertisements list only interfaces this node lacks or excludes: announced nowhere",
      registers,
    }),
    unadvertisedIps: new Gauge({
      name: "baremetal_lb_unadvertised_ips",
      help: "Assigned IPs that no L2Advertisement applies to (pool not selected, or the Service not matched by serviceSelectors): never announced",
      registers,
    }),
    repliesWithheld: new Counter({
      name: "baremetal_lb_replies_withheld_total",
      help: "Requests for owned IPs not answered because the heartbeat quorum of the last decision had lapsed (the event loop stalled); the next decision answers again",
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
      help: "Heartbeat datagrams dropped (malformed, forged, replayed, stale, unknown key, no key yet), by reason",
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
    liveSpeakers: new Gauge({
      name: "baremetal_lb_live_speakers",
      help: "Speakers this speaker counts as live for the election",
      registers,
    }),
    heartbeatRate: new Gauge({
      name: "baremetal_lb_heartbeat_datagrams_per_second",
      help: "Heartbeats this node sends per second, and receives: (members - 1) / --heartbeat-interval; over 2,000 the speaker advises a longer interval",
      registers,
    }),
    members: new Gauge({
      name: "baremetal_lb_members",
      help: "Speakers in the membership (Lease-live, frozen while the API is unreachable, or heard of)",
      registers,
    }),
    silentMembers: new Gauge({
      name: "baremetal_lb_silent_members",
      help: "Members neither heard nor renewing their Lease: they count against quorum until their Node is deleted",
      registers,
    }),
    quorumSize: new Gauge({
      name: "baremetal_lb_quorum_size",
      help: "Members this speaker hears both ways over heartbeats, itself included",
      registers,
    }),
    quorum: new Gauge({
      name: "baremetal_lb_quorum",
      help: "1 while this speaker has heartbeat quorum and may announce",
      registers,
    }),
    apiReachable: new Gauge({
      name: "baremetal_lb_api_reachable",
      help: "1 while this speaker's own Lease renewals reach the API server",
      registers,
    }),
    configRejections: new Counter({
      name: "baremetal_lb_config_rejections_total",
      help: "Configs not applied (the last good one stays in force), by cause",
      labelNames: ["cause"],
      registers,
    }),
    configStale: new Gauge({
      name: "metallb_k8s_client_config_stale_bool",
      help: "1 when the config in force is not the latest one written",
      registers,
    }),
  };
}

export type SpeakerMetrics = ReturnType<typeof createSpeakerMetrics>;
