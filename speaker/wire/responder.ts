/**
 * The responder's decision for one received frame, as a pure function: reply (with the exact bytes to send),
 * ignore (valid traffic that is not ours to answer, with a reason) or drop (malformed, with a reason to count).
 *
 * Answer rules (MetalLB's, plus NDP):
 * - ARP: only requests (never replies), whose Ethernet destination is broadcast or our MAC, whose target is a VIP
 *   we announce on this interface now, and that are not gratuitous. The reply goes unicast to the requester.
 *   ARP probes (RFC 5227, sender IP 0.0.0.0) are answered too, which defends the VIP as the kernel would.
 * - NDP: Neighbour Solicitations for a VIP we announce, sent to our MAC or to a multicast MAC, are answered with
 *   a solicited NA (see `solicitedAdvertisement`).
 * - Frames whose Ethernet source is one of our MACs (our own transmissions looped back to the packet socket) and
 *   802.1Q-tagged frames (see ethernet.ts) are ignored.
 *
 * Conflict detection: any ARP packet (reply, or request including a gratuitous one) whose *sender* IP is a VIP we
 * announce, and any NA whose target, or NS whose IPv6 source, is such a VIP, is a claim on that VIP; when the
 * claiming MAC is not ours the decision carries `conflict: { ip, mac, via }`. The caller raises the
 * `ARPConflict` Event from it. During a handover the previous owner may still send its last GARPs for a moment
 * (its own burst, or frames already queued), so a claim just after we gain the VIP is a transient: the caller
 * (speaker/l2/announcer.ts) ignores claims for `conflictGraceMs` (1,500 ms unless set) after gaining an IP and after
 * each change of the live speakers or of quorum (`handoverInProgress`), covering the old owner's last frames in
 * flight, and reports only claims that come later.
 */
import { formatIpBytes, type FormatIpOptions } from "../../shared/ip/bytes.ts";
import { ARP_REPLY, arpReply, decodeArp, type ArpDropReason } from "./arp.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, decodeEthernet, type EthernetDropReason } from "./ethernet.ts";
import { bytesEqual, formatMac } from "./mac.ts";
import { decodeNdp, linkLayerAddress, solicitedAdvertisement, type NdpDropReason } from "./ndp.ts";

/**
 * How an ARP frame's IPs are printed to look them up in `announced`: as the VIP text is written (Go's
 * `net.IP.String()`). NDP's 16-byte addresses are printed as they are: an IPv4-mapped one (`::ffff:10.0.0.5`)
 * then never reads as an announced IPv4 VIP, since no node has that IPv6 address.
 */
const VIP_TEXT: FormatIpOptions = { ipv4Mapped: "unmap" };

/** What the responder knows about the interface a frame arrived on. */
export interface ResponderContext {
  /** The interface's MAC (6 bytes): the address we answer with. */
  ourMac: Uint8Array;
  /** The VIPs this node owns now and announces on this interface, as `canonicalIp(ip, { ipv4Mapped: "unmap" })` text. */
  announced: ReadonlySet<string>;
  /**
   * Every MAC of this node as `formatMac()` text, so a claim from another of our own interfaces on the same
   * segment is neither a conflict nor answered. Defaults to `ourMac` alone.
   */
  localMacs?: ReadonlySet<string>;
}

/** Another MAC claiming a VIP we announce, and the kind of packet that claimed it. */
export interface Conflict {
  ip: string;
  mac: string;
  via: "arp-reply" | "arp-request" | "neighbor-advertisement" | "neighbor-solicitation";
}

/** Why a well-formed frame got no answer. */
export type IgnoreReason =
  | "own-frame"
  | "vlan-tagged"
  | "unsupported-ethertype"
  | "not-icmpv6"
  | "not-neighbor-discovery"
  | "arp-reply"
  | "neighbor-advertisement"
  | "foreign-ethernet-destination"
  | "target-not-announced"
  | "gratuitous-arp"
  | "multicast-sender-mac";

/** Why a frame was malformed: the decoders' reasons. */
export type DropReason = EthernetDropReason | ArpDropReason | Exclude<NdpDropReason, "not-icmpv6" | "not-neighbor-discovery">;

/** The responder's decision for one frame. */
export type ResponderDecision =
  | { action: "reply"; protocol: "arp" | "ndp"; ip: string; frame: Buffer; conflict?: Conflict }
  | { action: "ignore"; reason: IgnoreReason; conflict?: Conflict }
  | { action: "drop"; reason: DropReason };

/**
 * Decides what to do with one received Ethernet frame. Never throws.
 *
 * @example
 * const d = respondToFrame(bytes, { ourMac, announced: new Set(["192.0.2.10"]) });
 * if (d.action === "reply") socket.send(d.frame);
 * else if (d.action === "drop") malformedFrames.inc({ reason: d.reason });
 * if (d.action !== "drop" && d.conflict) onConflict(d.conflict);
 */
export function respondToFrame(bytes: Uint8Array, ctx: ResponderContext): ResponderDecision {
  const eth = decodeEthernet(bytes);
  if (!eth.ok) return { action: "drop", reason: eth.reason };
  const frame = eth.frame;
  if (isLocal(frame.source, ctx)) return { action: "ignore", reason: "own-frame" };
  if (frame.vlan) return { action: "ignore", reason: "vlan-tagged" };
  if (frame.etherType === ETHERTYPE_ARP) return respondToArp(frame.destination, frame.payload, ctx);
  if (frame.etherType === ETHERTYPE_IPV6) return respondToNdp(frame.destination, frame.source, frame.payload, ctx);
  return { action: "ignore", reason: "unsupported-ethertype" };
}

function respondToArp(ethDestination: Uint8Array, payload: Uint8Array, ctx: ResponderContext): ResponderDecision {
  const decoded = decodeArp(payload);
  if (!decoded.ok) return { action: "drop", reason: decoded.reason };
  const arp = decoded.packet;
  const senderIp = formatIpBytes(arp.senderIp, VIP_TEXT);
  const conflict: Conflict | undefined =
    ctx.announced.has(senderIp) && !isLocal(arp.senderMac, ctx)
      ? { ip: senderIp, mac: formatMac(arp.senderMac), via: arp.operation === ARP_REPLY ? "arp-reply" : "arp-request" }
      : undefined;
  if (arp.operation === ARP_REPLY) return ignored("arp-reply", conflict);
  if (!isBroadcast(ethDestination) && !bytesEqual(ethDestination, ctx.ourMac)) {
    return ignored("foreign-ethernet-destination", conflict);
  }
  const targetIp = formatIpBytes(arp.targetIp, VIP_TEXT);
  if (!ctx.announced.has(targetIp)) return ignored("target-not-announced", conflict);
  if (bytesEqual(arp.senderIp, arp.targetIp)) return ignored("gratuitous-arp", conflict);
  if (isMulticastMac(arp.senderMac)) return ignored("multicast-sender-mac", conflict);
  return replied("arp", targetIp, arpReply(ctx.ourMac, arp), conflict);
}

function respondToNdp(
  ethDestination: Uint8Array,
  ethSource: Uint8Array,
  payload: Uint8Array,
  ctx: ResponderContext,
): ResponderDecision {
  const decoded = decodeNdp(payload);
  if (!decoded.ok) {
    const reason = decoded.reason;
    if (reason === "not-icmpv6" || reason === "not-neighbor-discovery") return { action: "ignore", reason };
    return { action: "drop", reason };
  }
  const packet = decoded.packet;
  const message = packet.message;
  if (message.type === "neighbor-advertisement") {
    const target = formatIpBytes(message.target);
    const mac = linkLayerAddress(message.options, "target-link-layer") ?? ethSource;
    const claims = ctx.announced.has(target) && !isLocal(mac, ctx);
    const conflict: Conflict | undefined = claims ? { ip: target, mac: formatMac(mac), via: "neighbor-advertisement" } : undefined;
    return ignored("neighbor-advertisement", conflict);
  }
  const senderMac = linkLayerAddress(message.options, "source-link-layer") ?? ethSource;
  const source = formatIpBytes(packet.source);
  const conflict: Conflict | undefined =
    ctx.announced.has(source) && !isLocal(senderMac, ctx)
      ? { ip: source, mac: formatMac(senderMac), via: "neighbor-solicitation" }
      : undefined;
  if (!isMulticastMac(ethDestination) && !bytesEqual(ethDestination, ctx.ourMac)) {
    return ignored("foreign-ethernet-destination", conflict);
  }
  const target = formatIpBytes(message.target);
  if (!ctx.announced.has(target)) return ignored("target-not-announced", conflict);
  if (isMulticastMac(senderMac)) return ignored("multicast-sender-mac", conflict);
  return replied("ndp", target, solicitedAdvertisement(ctx.ourMac, packet, ethSource), conflict);
}

function ignored(reason: IgnoreReason, conflict: Conflict | undefined): ResponderDecision {
  return conflict ? { action: "ignore", reason, conflict } : { action: "ignore", reason };
}

function replied(protocol: "arp" | "ndp", ip: string, frame: Buffer, conflict: Conflict | undefined): ResponderDecision {
  return conflict ? { action: "reply", protocol, ip, frame, conflict } : { action: "reply", protocol, ip, frame };
}

function isLocal(mac: Uint8Array, ctx: ResponderContext): boolean {
  if (bytesEqual(mac, ctx.ourMac)) return true;
  return ctx.localMacs !== undefined && ctx.localMacs.has(formatMac(mac));
}

function isBroadcast(mac: Uint8Array): boolean {
  return mac[0] === 0xff && mac[1] === 0xff && mac[2] === 0xff && mac[3] === 0xff && mac[4] === 0xff && mac[5] === 0xff;
}

/** The I/G bit: set for multicast and broadcast MACs. */
function isMulticastMac(mac: Uint8Array): boolean {
  return (mac[0] & 1) === 1;
}
