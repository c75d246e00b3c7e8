// The speakers' heartbeat datagram as a value, natively: the same bytes as speaker/cluster/heartbeat-message.ts
// (the reference; its doc comment has the wire format). No socket, no clock.
//
//   std::vector<uint8_t> out;
//   size_t sent_hears;
//   EncodeHeartbeat(hb, key, &out, &sent_hears);                    // signed datagram in `out`
//   const char* reason = DecodeHeartbeat(data, length, keys, &hb);  // nullptr, or "bad-mac", ...
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace blb {

constexpr size_t kHeartbeatMacBytes = 32;
// The largest datagram sent or accepted: the largest IPv4 UDP payload.
constexpr size_t kMaxHeartbeatBytes = 65507;
constexpr size_t kHeartbeatKeyIdBytes = 8;
constexpr size_t kMaxNodeNameBytes = 253;
constexpr size_t kMaxIdentityBytes = 255;
constexpr uint64_t kMaxUint48 = (uint64_t{1} << 48) - 1;

struct HeartbeatKey {
  std::array<uint8_t, kHeartbeatKeyIdBytes> id;  // sent in the clear
  std::vector<uint8_t> secret;
};

// One relayed counter (a `hears` entry). `node` views memory the caller keeps alive: the datagram it was
// decoded from, or the relay table it is encoded from.
struct RelayedCounter {
  std::string_view node;
  uint64_t started_at = 0;
  uint64_t seq = 0;
  uint32_t age_ms = 0;  // 2^32-1: that long ago or longer
  bool candidate = false;
};

// One heartbeat; the names view memory as in RelayedCounter.
struct Heartbeat {
  std::string_view node;
  std::string_view identity;
  uint64_t started_at = 0;
  uint64_t sent_at = 0;
  uint64_t seq = 0;
  bool leaving = false;
  bool candidate = false;
  bool api_reachable = false;
  std::vector<RelayedCounter> hears;
};

// Bytes on the wire of `hb` without its `hears` entries (header, names, count, MAC), and of one entry.
size_t HeartbeatBytesWithoutHears(const Heartbeat& hb);
size_t HearsEntryBytes(const RelayedCounter& entry);

// Encodes and signs `hb` into `out` (replacing its contents) with as many of `hb.hears`, in order, as fit in
// kMaxHeartbeatBytes, and says in `*hears_encoded` how many did: byte for byte what encodeHeartbeat makes of
// those. The caller guarantees what encodeHeartbeat would throw for: names of 1..253 (identity 1..255) bytes of
// UTF-8, times and counters up to 2^48-1. False only when OpenSSL fails to compute the MAC.
bool EncodeHeartbeat(const Heartbeat& hb, const HeartbeatKey& key, std::vector<uint8_t>* out,
                     size_t* hears_encoded);

// Authenticates and decodes a datagram of `length` bytes, exactly as decodeHeartbeat does: nullptr and `*out`
// filled (its names view `bytes`), or the drop reason: "bad-length", "unknown-format", "bad-version",
// "unknown-key", "bad-mac" or "malformed". The MAC is compared in constant time before any field after the
// header is parsed. `out->hears` keeps its capacity from call to call.
const char* DecodeHeartbeat(const uint8_t* bytes, size_t length, const std::vector<HeartbeatKey>& accepted,
                            Heartbeat* out);

// Whether `bytes` is well-formed UTF-8 as the WHATWG decoder with `fatal: true` judges it: no overlong forms,
// no surrogates, nothing above U+10FFFF, no truncated sequence (noncharacters and a BOM are fine).
bool IsStrictUtf8(const uint8_t* bytes, size_t length);

}  // namespace blb
