/**
 * Byte-exact frames for the codec tests, written out by hand with a comment per field.
 *
 * "Kernel" frames were captured with `tcpdump -xx` on a veth pair between two network namespaces (Linux 6.x):
 * A = va, 02:00:00:00:00:0a, 192.0.2.10/24 and 2001:db8::a/64; B = vb, 02:00:00:00:00:0b, 192.0.2.11/24 and
 * 2001:db8::b/64, with arp_notify=1 and ndisc_notify=1 on B. The others are hand-built from the same addresses.
 */

/** Parses a hex dump: `#` starts a comment that runs to the end of the line; whitespace is ignored. */
export function hexFrame(dump: string): Buffer {
  const hex = dump.replace(/#.*$/gm, "").replace(/\s+/g, "");
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`bad hex dump: ${hex}`);
  return Buffer.from(hex, "hex");
}

export const MAC_A = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0a);
export const MAC_B = Uint8Array.of(0x02, 0, 0, 0, 0, 0x0b);

/** Kernel, A asks: who-has 192.0.2.11 tell 192.0.2.10. */
export const ARP_REQUEST = hexFrame(`
  ff ff ff ff ff ff     # eth destination: broadcast
  02 00 00 00 00 0a     # eth source: A
  08 06                 # EtherType: ARP
  00 01                 # hardware type: Ethernet
  08 00                 # protocol type: IPv4
  06 04                 # hardware length 6, protocol length 4
  00 01                 # operation: request
  02 00 00 00 00 0a     # sender MAC: A
  c0 00 02 0a           # sender IP: 192.0.2.10
  00 00 00 00 00 00     # target MAC: unknown
  c0 00 02 0b           # target IP: 192.0.2.11
`);

/** Kernel, B answers A unicast: 192.0.2.11 is-at 02:00:00:00:00:0b. */
export const ARP_REPLY = hexFrame(`
  02 00 00 00 00 0a     # eth destination: A (unicast to the requester)
  02 00 00 00 00 0b     # eth source: B
  08 06                 # EtherType: ARP
  00 01 08 00 06 04     # Ethernet / IPv4 / 6 / 4
  00 02                 # operation: reply
  02 00 00 00 00 0b     # sender MAC: B
  c0 00 02 0b           # sender IP: 192.0.2.11
  02 00 00 00 00 0a     # target MAC: A
  c0 00 02 0a           # target IP: 192.0.2.10
`);

/** Kernel, B announces 192.0.2.11 on link up (arp_notify): request-style GARP, target MAC zero. */
export const GARP_REQUEST = hexFrame(`
  ff ff ff ff ff ff     # eth destination: broadcast
  02 00 00 00 00 0b     # eth source: B
  08 06                 # EtherType: ARP
  00 01 08 00 06 04     # Ethernet / IPv4 / 6 / 4
  00 01                 # operation: request
  02 00 00 00 00 0b     # sender MAC: B
  c0 00 02 0b           # sender IP: 192.0.2.11
  00 00 00 00 00 00     # target MAC: zero
  c0 00 02 0b           # target IP: 192.0.2.11 (= sender IP)
`);

/** Hand-built, as iputils \`arping -A\` sends it: reply-style GARP, target MAC = sender MAC. */
export const GARP_REPLY = hexFrame(`
  ff ff ff ff ff ff     # eth destination: broadcast
  02 00 00 00 00 0b     # eth source: B
  08 06                 # EtherType: ARP
  00 01 08 00 06 04     # Ethernet / IPv4 / 6 / 4
  00 02                 # operation: reply
  02 00 00 00 00 0b     # sender MAC: B
  c0 00 02 0b           # sender IP: 192.0.2.11
  02 00 00 00 00 0b     # target MAC: B (= sender MAC, which makes Linux treat it as gratuitous)
  c0 00 02 0b           # target IP: 192.0.2.11 (= sender IP)
`);

/** Hand-built: ARP_REQUEST with an 802.1Q tag, VLAN 100, priority 5, DEI clear. */
export const ARP_REQUEST_VLAN_100 = hexFrame(`
  ff ff ff ff ff ff     # eth destination: broadcast
  02 00 00 00 00 0a     # eth source: A
  81 00                 # TPID: 802.1Q
  a0 64                 # TCI: priority 5 (101), DEI 0, VLAN id 0x064 = 100
  08 06                 # EtherType: ARP
  00 01 08 00 06 04 00 01
  02 00 00 00 00 0a c0 00 02 0a
  00 00 00 00 00 00 c0 00 02 0b
`);

/** Kernel, A solicits 2001:db8::b (to its solicited-node group), with A's source link-layer address. */
export const NEIGHBOR_SOLICITATION = hexFrame(`
  33 33 ff 00 00 0b     # eth destination: 33:33 + ff00:000b (solicited-node group of ::b)
  02 00 00 00 00 0a     # eth source: A
  86 dd                 # EtherType: IPv6
  60 00 00 00           # version 6, traffic class 0, flow label 0
  00 20                 # payload length 32
  3a                    # next header 58: ICMPv6
  ff                    # hop limit 255
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0a   # source 2001:db8::a
  ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 0b   # destination ff02::1:ff00:b
  87                    # ICMPv6 type 135: neighbour solicitation
  00                    # code 0
  1c 03                 # checksum
  00 00 00 00           # reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b   # target 2001:db8::b
  01 01                 # option: source link-layer address, length 1 (8 bytes)
  02 00 00 00 00 0a     #   A
`);

/** Kernel, B answers A: solicited NA, flags Solicited + Override, IPv6 source = target. */
export const NEIGHBOR_ADVERTISEMENT_SOLICITED = hexFrame(`
  02 00 00 00 00 0a     # eth destination: A
  02 00 00 00 00 0b     # eth source: B
  86 dd                 # EtherType: IPv6
  60 00 00 00 00 20 3a ff                           # IPv6, payload 32, ICMPv6, hop limit 255
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b   # source 2001:db8::b
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0a   # destination 2001:db8::a
  88 00                 # ICMPv6 type 136: neighbour advertisement, code 0
  8a 4d                 # checksum
  60 00 00 00           # flags R=0 S=1 O=1 (0110 0000), reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b   # target 2001:db8::b
  02 01                 # option: target link-layer address, length 1
  02 00 00 00 00 0b     #   B
`);

/**
 * Kernel, B announces 2001:db8::b on link up (ndisc_notify): unsolicited NA to ff02::1, Override only.
 *
 * Checksum by hand (RFC 8200 8.1 pseudo-header, then the message with its checksum field zero, 16-bit words):
 *   source       2001 + 0db8 + 000b                      = 0x2dc4
 *   destination  ff02 + 0001                             = 0xff03
 *   length 0x0020, next header 0x003a      pseudo-header = 0x12d21
 *   ICMPv6 8800 + 2000 + 2001 + 0db8 + 000b + 0201 + 0200 + 000b = 0xd9d0
 *   total 0x206f1, folded 0x06f1 + 0x2 = 0x06f3, one's complement = 0xf90c
 */
export const NEIGHBOR_ADVERTISEMENT_UNSOLICITED = hexFrame(`
  33 33 00 00 00 01     # eth destination: 33:33 + 0000:0001 (ff02::1)
  02 00 00 00 00 0b     # eth source: B
  86 dd                 # EtherType: IPv6
  60 00 00 00 00 20 3a ff                           # IPv6, payload 32, ICMPv6, hop limit 255
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b   # source 2001:db8::b
  ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 01   # destination ff02::1
  88 00                 # ICMPv6 type 136, code 0
  f9 0c                 # checksum (see above)
  20 00 00 00           # flags R=0 S=0 O=1 (0010 0000), reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0b   # target 2001:db8::b
  02 01                 # option: target link-layer address, length 1
  02 00 00 00 00 0b     #   B
`);

/** Kernel, B probes 2001:db8::d before using it (DAD): source ::, no link-layer option, RFC 7527 nonce. */
export const NEIGHBOR_SOLICITATION_DAD = hexFrame(`
  33 33 ff 00 00 0d     # eth destination: solicited-node group of ::d
  02 00 00 00 00 0b     # eth source: B
  86 dd                 # EtherType: IPv6
  60 00 00 00 00 20 3a ff                           # IPv6, payload 32, ICMPv6, hop limit 255
  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # source :: (unspecified)
  ff 02 00 00 00 00 00 00 00 00 00 01 ff 00 00 0d   # destination ff02::1:ff00:d
  87 00                 # ICMPv6 type 135, code 0
  d4 58                 # checksum
  00 00 00 00           # reserved
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 0d   # target 2001:db8::d
  0e 01                 # option 14: nonce, length 1
  c5 57 d0 7c d4 9e     #   nonce
`);

/** Kernel, B sends a router solicitation: valid ICMPv6, but not neighbour discovery of an address. */
export const ROUTER_SOLICITATION = hexFrame(`
  33 33 00 00 00 02     # eth destination: ff02::2
  02 00 00 00 00 0b     # eth source: B
  86 dd                 # EtherType: IPv6
  60 00 00 00 00 10 3a ff                           # IPv6, payload 16, ICMPv6, hop limit 255
  fe 80 00 00 00 00 00 00 00 00 00 ff fe 00 00 0b   # source fe80::ff:fe00:b
  ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 02   # destination ff02::2
  85 00 7b 18           # ICMPv6 type 133: router solicitation, code 0, checksum
  00 00 00 00           # reserved
  01 01 02 00 00 00 00 0b                           # source link-layer address: B
`);
