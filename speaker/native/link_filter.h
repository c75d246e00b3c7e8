// The classic BPF program attached to every packet socket: the kernel wakes the speaker only for
// ARP requests and replies and ICMPv6 Neighbour Solicitations and Advertisements, nothing else.
#pragma once

#include <linux/filter.h>

namespace blb {

// Offsets are from the start of the Ethernet frame (SOCK_RAW). ICMPv6 must follow the IPv6 header
// directly: NDP messages never carry extension headers. A frame too short for a load is dropped by
// the kernel (a failed load ends the program with "return 0"). 802.1Q-tagged frames are dropped: the
// kernel strips the tag before packet sockets see the frame, so without this a request from another
// VLAN on a trunk would look untagged and be answered in the wrong broadcast domain. A VLAN is served
// by its own sub-interface (eth0.100), where frames arrive untagged.
inline const sock_filter kNeighborDiscoveryFilter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT)),  // 0: A = tagged?
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 12),   // 1: untagged → 2, else drop
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),          // 2: A = ethertype
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0806, 0, 3),  // 3: ARP → 4, else → 7
    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),          // 4: A = ARP operation
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 7, 0),    // 5: request → accept
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 6, 7),    // 6: reply → accept, else drop
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 6),  // 7: IPv6 → 8, else drop
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),          // 8: A = IPv6 next header
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4),   // 9: ICMPv6 → 10, else drop
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 54),          // 10: A = ICMPv6 type
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0),  // 11: Neighbour Solicitation → accept
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1),  // 12: Neighbour Advertisement → accept, else drop
    BPF_STMT(BPF_RET | BPF_K, 0x40000),              // 13: accept (up to 256 KiB)
    BPF_STMT(BPF_RET | BPF_K, 0),                    // 14: drop
};

}  // namespace blb
