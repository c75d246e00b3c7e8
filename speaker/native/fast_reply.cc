#include "fast_reply.h"

#include <cstring>

namespace blb {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kArpFrame = kEthernetHeader + 28;
constexpr size_t kIpv6Header = 40;
constexpr size_t kSolicitationMin = 24;  // type, code, checksum, reserved, target
constexpr size_t kAdvertisementLength = 32;  // 24 + target link-layer address option (8)

uint16_t Read16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

void Write16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value);
}

bool IsMulticastMac(const uint8_t* mac) { return mac[0] & 1; }

bool IsZero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i] != 0) return false;
  return true;
}

// ff02::1:ffXX:XXXX
bool IsSolicitedNodeGroup(const uint8_t* address) {
  static const uint8_t kPrefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
  return std::memcmp(address, kPrefix, 13) == 0;
}

// One's-complement sum of the ICMPv6 pseudo-header and message, folded and complemented: the value to
// store in the checksum field, and 0 when checking a message whose checksum is correct.
uint16_t Icmpv6Checksum(const uint8_t* source, const uint8_t* destination, const uint8_t* message,
                        size_t length) {
  uint32_t sum = 0;
  for (size_t i = 0; i < 16; i += 2) sum += Read16(source + i) + Read16(destination + i);
  sum += static_cast<uint32_t>(length >> 16) + static_cast<uint32_t>(length & 0xffff) + 58;
  for (size_t i = 0; i + 1 < length; i += 2) sum += Read16(message + i);
  if (length & 1) sum += static_cast<uint32_t>(message[length - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

size_t BuildArpReply(const uint8_t* frame, size_t length, const Mac& mac, const ReplyTable& table,
                     uint8_t* out) {
  if (length < kArpFrame) return 0;
  static const uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  if (std::memcmp(frame, kBroadcast, 6) != 0 && std::memcmp(frame, mac.data(), 6) != 0) return 0;
  const uint8_t* arp = frame + kEthernetHeader;
  if (Read16(arp) != 1 || Read16(arp + 2) != 0x0800 || arp[4] != 6 || arp[5] != 4) return 0;
  if (Read16(arp + 6) != 1) return 0;  // only requests are answered
  const uint8_t* sender_mac = arp + 8;
  const uint8_t* sender_ip = arp + 14;
  const uint8_t* target_ip = arp + 24;
  if (std::memcmp(sender_ip, target_ip, 4) == 0) return 0;  // gratuitous: an announcement, not a question
  if (IsMulticastMac(sender_mac)) return 0;
  Ipv4 target;
  std::memcpy(target.data(), target_ip, 4);
  if (table.ipv4.count(target) == 0) return 0;

  std::memcpy(out, sender_mac, 6);
  std::memcpy(out + 6, mac.data(), 6);
  Write16(out + 12, 0x0806);
  uint8_t* reply = out + kEthernetHeader;
  Write16(reply, 1);
  Write16(reply + 2, 0x0800);
  reply[4] = 6;
  reply[5] = 4;
  Write16(reply + 6, 2);
  std::memcpy(reply + 8, mac.data(), 6);
  std::memcpy(reply + 14, target_ip, 4);
  std::memcpy(reply + 18, sender_mac, 6);
  std::memcpy(reply + 24, sender_ip, 4);
  return kArpFrame;
}

size_t BuildNeighborAdvertisement(const uint8_t* frame, size_t length, const Mac& mac,
                                  const ReplyTable& table, uint8_t* out) {
  if (length < kEthernetHeader + kIpv6Header + kSolicitationMin) return 0;
  const uint8_t* ip = frame + kEthernetHeader;
  const size_t payload = Read16(ip + 4);
  if (ip[0] >> 4 != 6 || ip[6] != 58 || ip[7] != 255) return 0;  // ICMPv6 directly, hop limit 255
  if (payload < kSolicitationMin || kEthernetHeader + kIpv6Header + payload > length) return 0;
  const uint8_t* source = ip + 8;
  const uint8_t* destination = ip + 24;
  const uint8_t* icmp = ip + kIpv6Header;
  if (icmp[0] != 135 || icmp[1] != 0) return 0;
  if (Icmpv6Checksum(source, destination, icmp, payload) != 0) return 0;
  const uint8_t* target = icmp + 8;
  if (target[0] == 0xff || source[0] == 0xff) return 0;  // neither may be multicast

  const uint8_t* source_link_address = nullptr;
  for (size_t offset = kSolicitationMin; offset < payload;) {
    if (payload - offset < 2) return 0;
    const size_t option_length = icmp[offset + 1] * 8u;
    if (option_length == 0 || option_length > payload - offset) return 0;
    const uint8_t type = icmp[offset];
    if ((type == 1 || type == 2) && option_length != 8) return 0;  // link-layer options hold one MAC
    if (type == 1 && source_link_address == nullptr) source_link_address = icmp + offset + 2;
    offset += option_length;
  }
  const bool duplicate_address_probe = IsZero(source, 16);
  if (duplicate_address_probe && (source_link_address != nullptr || !IsSolicitedNodeGroup(destination))) return 0;

  if (!IsMulticastMac(frame) && std::memcmp(frame, mac.data(), 6) != 0) return 0;  // for someone else
  Ipv6 key;
  std::memcpy(key.data(), target, 16);
  if (table.ipv6.count(key) == 0) return 0;
  const uint8_t* sender_mac = source_link_address != nullptr ? source_link_address : frame + 6;
  if (IsMulticastMac(sender_mac)) return 0;

  static const uint8_t kAllNodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  static const uint8_t kAllNodesMac[6] = {0x33, 0x33, 0, 0, 0, 0x01};
  const uint8_t* reply_mac = duplicate_address_probe ? kAllNodesMac : sender_mac;
  const uint8_t* reply_ip = duplicate_address_probe ? kAllNodes : source;

  std::memcpy(out, reply_mac, 6);
  std::memcpy(out + 6, mac.data(), 6);
  Write16(out + 12, 0x86dd);
  uint8_t* header = out + kEthernetHeader;
  header[0] = 0x60;
  header[1] = header[2] = header[3] = 0;
  Write16(header + 4, kAdvertisementLength);
  header[6] = 58;
  header[7] = 255;
  std::memcpy(header + 8, target, 16);
  std::memcpy(header + 24, reply_ip, 16);
  uint8_t* advert = header + kIpv6Header;
  advert[0] = 136;
  advert[1] = 0;
  Write16(advert + 2, 0);
  advert[4] = duplicate_address_probe ? 0x20 : 0x60;  // Override, plus Solicited unless answering DAD
  advert[5] = advert[6] = advert[7] = 0;
  std::memcpy(advert + 8, target, 16);
  advert[24] = 2;  // target link-layer address option, 1 × 8 bytes
  advert[25] = 1;
  std::memcpy(advert + 26, mac.data(), 6);
  Write16(advert + 2, Icmpv6Checksum(header + 8, header + 24, advert, kAdvertisementLength));
  return kEthernetHeader + kIpv6Header + kAdvertisementLength;
}

}  // namespace

size_t BuildFastReply(const uint8_t* frame, size_t length, const Mac& mac, const ReplyTable& table,
                      uint8_t out[kMaxReplyLength]) {
  if (length < kEthernetHeader) return 0;
  if (std::memcmp(frame + 6, mac.data(), 6) == 0) return 0;  // our own transmission, looped back
  switch (Read16(frame + 12)) {
    case 0x0806:
      return BuildArpReply(frame, length, mac, table, out);
    case 0x86dd:
      return BuildNeighborAdvertisement(frame, length, mac, table, out);
    default:
      return 0;
  }
}

}  // namespace blb
