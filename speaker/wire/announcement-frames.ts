/**
 * The frames of one gratuitous announcement round for a VIP on one interface.
 */
import { garpReply, garpRequest } from "./arp.ts";
import { unsolicitedAdvertisement } from "./ndp.ts";

/**
 * For an IPv4 VIP (4 bytes): a request-style then a reply-style GARP (see arp.ts for why both). For an IPv6 VIP
 * (16 bytes): one unsolicited NA to ff02::1 with Override set. Throws a RangeError for any other length.
 *
 * @example for (const f of announcementFrames(ourMac, ipToBytes(vip))) socket.send(f);
 */
export function announcementFrames(ourMac: Uint8Array, vip: Uint8Array): Buffer[] {
  if (vip.length === 4) return [garpRequest(ourMac, vip), garpReply(ourMac, vip)];
  if (vip.length === 16) return [unsolicitedAdvertisement(ourMac, vip)];
  throw new RangeError(`announcementFrames needs a 4- or 16-byte IP, got ${vip.length} bytes`);
}
