// The native fast path: answers for ARP requests and Neighbour Solicitations that target a VIP.
// Pure byte-level functions, no sockets; the TypeScript codecs in speaker/ remain the reference.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <unordered_set>

namespace blb {

using Mac = std::array<uint8_t, 6>;
using Ipv4 = std::array<uint8_t, 4>;
using Ipv6 = std::array<uint8_t, 16>;

struct AddressHash {
  template <size_t N>
  size_t operator()(const std::array<uint8_t, N>& address) const noexcept {
    uint64_t hash = 14695981039346656037ull;  // FNV-1a
    for (uint8_t byte : address) hash = (hash ^ byte) * 1099511628211ull;
    return static_cast<size_t>(hash);
  }
};

// The VIPs this node answers for, as JavaScript last set them.
struct ReplyTable {
  std::unordered_set<Ipv4, AddressHash> ipv4;
  std::unordered_set<Ipv6, AddressHash> ipv6;
};

// Large enough for either reply: ARP 42 bytes, Neighbour Advertisement 86 bytes.
constexpr size_t kMaxReplyLength = 86;

// Writes the reply that `frame` (a full Ethernet frame received on the interface whose MAC is `mac`)
// deserves into `out` and returns its length, or returns 0 when the frame must not be answered. The rules
// are those of speaker/wire/responder.ts (the reference); frames from `mac` itself are never answered.
//  - ARP: an Ethernet/IPv4 request (op 1) to broadcast or `mac`, whose target IP is in the table, not
//    gratuitous, from a unicast sender MAC → unicast reply to the sender.
//  - NDP: a Neighbour Solicitation passing RFC 4861 §7.1.1 validation (ICMPv6 right after the IPv6
//    header, hop limit 255, code 0, checksum, options, no multicast source or target; from the
//    unspecified address only to a solicited-node group and without a source link-layer option), to a
//    multicast MAC or `mac`, whose target is in the table, from a unicast link-layer address (source
//    link-layer option, else Ethernet source) → Neighbour Advertisement with Override and the target
//    link-layer option, to the soliciter with Solicited set, or for a DAD probe (source ::) to ff02::1
//    with Solicited clear, as RFC 4861 §7.2.4 requires.
size_t BuildFastReply(const uint8_t* frame, size_t length, const Mac& mac, const ReplyTable& table,
                      uint8_t out[kMaxReplyLength]);

}  // namespace blb
