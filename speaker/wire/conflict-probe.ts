/**
 * Probes that make any other holder of a VIP speak up: an ARP probe (RFC 5227: sender IP
 * 0.0.0.0) for IPv4, a duplicate-address-detection Neighbour Solicitation (source ::) for IPv6.
 * A kernel that has the VIP on an interface and answers ARP for it there (kube-proxy's IPVS
 * `kube-ipvs0` without strictARP) replies to the probe, and the responder reports its MAC as a
 * conflict. Replies to a client's own requests are unicast to the client and never reach us;
 * replies to our probes come back to us.
 */
import { ARP_REQUEST, encodeArp } from "./arp.ts";
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV6, encodeEthernet } from "./ethernet.ts";
import { encodeNdp, ipv6MulticastMac, solicitedNodeMulticast } from "./ndp.ts";

const ZERO_IPV4 = new Uint8Array(4);
const ZERO_IPV6 = new Uint8Array(16);
const ZERO_MAC = new Uint8Array(6);

/**
 * The probe frame for `vip` (4 or 16 bytes) from an interface with MAC `ourMac`.
 *
 * @example socket.send(conflictProbe(socket.mac, Uint8Array.of(192, 168, 126, 40)));
 */
export function conflictProbe(ourMac: Uint8Array, vip: Uint8Array): Buffer {
  if (vip.length === 4) {
    const arp = encodeArp({ operation: ARP_REQUEST, senderMac: ourMac, senderIp: ZERO_IPV4, targetMac: ZERO_MAC, targetIp: vip });
    return encodeEthernet({ destination: BROADCAST_MAC, source: ourMac, etherType: ETHERTYPE_ARP, payload: arp });
  }
  if (vip.length === 16) {
    const group = solicitedNodeMulticast(vip);
    const ip = encodeNdp({
      source: ZERO_IPV6,
      destination: group,
      trafficClass: 0,
      flowLabel: 0,
      message: { type: "neighbor-solicitation", target: vip, options: [] },
    });
    return encodeEthernet({ destination: ipv6MulticastMac(group), source: ourMac, etherType: ETHERTYPE_IPV6, payload: ip });
  }
  throw new RangeError(`conflictProbe needs a 4- or 16-byte IP, got ${vip.length} bytes`);
}
