#include "heartbeat_codec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>

namespace blb {
namespace {

constexpr uint8_t kMagic0 = 0x42;  // "B"
constexpr uint8_t kMagic1 = 0x4c;  // "L"
constexpr uint8_t kVersion = 2;
constexpr uint8_t kFlagLeaving = 0x01;
constexpr uint8_t kFlagCandidate = 0x02;
constexpr uint8_t kFlagApiReachable = 0x04;
constexpr uint8_t kKnownFlags = kFlagLeaving | kFlagCandidate | kFlagApiReachable;
constexpr uint8_t kHearsFlagCandidate = 0x01;
constexpr uint8_t kKnownHearsFlags = kHearsFlagCandidate;
constexpr size_t kHeaderBytes = 30;       // magic, version, flags, key id, startedAt, sentAt, seq
constexpr size_t kHearsFixedBytes = 17;   // after an entry's name: startedAt, seq, ageMs, flags
// Header, a 1-byte node name, a 1-byte identity, an empty `hears` and the MAC.
constexpr size_t kMinHeartbeatBytes = kHeaderBytes + 2 + 2 + 2 + kHeartbeatMacBytes;

void PutUint(uint8_t* at, uint64_t value, size_t bytes) {
  for (size_t i = bytes; i-- > 0; value >>= 8) at[i] = static_cast<uint8_t>(value);
}

uint64_t TakeUint(const uint8_t* at, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < bytes; ++i) value = value << 8 | at[i];
  return value;
}

uint8_t* PutName(uint8_t* at, std::string_view name) {
  *at = static_cast<uint8_t>(name.size());
  std::memcpy(at + 1, name.data(), name.size());
  return at + 1 + name.size();
}

// The name at `*at` (length byte, then 1..max bytes of strict UTF-8 before `end`), advancing `*at`; false when
// there is none.
bool TakeName(const uint8_t* bytes, size_t end, size_t* at, size_t max, std::string_view* name) {
  if (*at >= end) return false;
  const size_t length = bytes[*at];
  const size_t start = *at + 1;
  if (length == 0 || length > max || start + length > end) return false;
  if (!IsStrictUtf8(bytes + start, length)) return false;
  *name = std::string_view(reinterpret_cast<const char*>(bytes + start), length);
  *at = start + length;
  return true;
}

bool Mac(const std::vector<uint8_t>& secret, const uint8_t* data, size_t length, uint8_t out[kHeartbeatMacBytes]) {
  unsigned int mac_length = 0;
  static const uint8_t kNoKey = 0;  // HMAC wants a non-null key pointer even for an empty key
  const uint8_t* key = secret.empty() ? &kNoKey : secret.data();
  return HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), data, length, out, &mac_length) != nullptr &&
         mac_length == kHeartbeatMacBytes;
}

}  // namespace

size_t HeartbeatBytesWithoutHears(const Heartbeat& hb) {
  return kHeaderBytes + 1 + hb.node.size() + 1 + hb.identity.size() + 2 + kHeartbeatMacBytes;
}

size_t HearsEntryBytes(const RelayedCounter& entry) { return 1 + entry.node.size() + kHearsFixedBytes; }

bool EncodeHeartbeat(const Heartbeat& hb, const HeartbeatKey& key, std::vector<uint8_t>* out,
                     size_t* hears_encoded) {
  size_t size = HeartbeatBytesWithoutHears(hb);
  size_t count = 0;
  for (const RelayedCounter& entry : hb.hears) {
    if (count == 0xffff || size + HearsEntryBytes(entry) > kMaxHeartbeatBytes) break;
    size += HearsEntryBytes(entry);
    ++count;
  }
  *hears_encoded = count;
  out->assign(size, 0);
  uint8_t* b = out->data();
  b[0] = kMagic0;
  b[1] = kMagic1;
  b[2] = kVersion;
  b[3] = (hb.leaving ? kFlagLeaving : 0) | (hb.candidate ? kFlagCandidate : 0) |
         (hb.api_reachable ? kFlagApiReachable : 0);
  std::memcpy(b + 4, key.id.data(), kHeartbeatKeyIdBytes);
  PutUint(b + 12, hb.started_at, 6);
  PutUint(b + 18, hb.sent_at, 6);
  PutUint(b + 24, hb.seq, 6);
  uint8_t* at = b + kHeaderBytes;
  at = PutName(at, hb.node);
  at = PutName(at, hb.identity);
  PutUint(at, count, 2);
  at += 2;
  for (size_t i = 0; i < count; ++i) {
    const RelayedCounter& entry = hb.hears[i];
    at = PutName(at, entry.node);
    PutUint(at, entry.started_at, 6);
    PutUint(at + 6, entry.seq, 6);
    PutUint(at + 12, entry.age_ms, 4);
    at[16] = entry.candidate ? kHearsFlagCandidate : 0;
    at += kHearsFixedBytes;
  }
  const size_t signed_bytes = static_cast<size_t>(at - b);
  return Mac(key.secret, b, signed_bytes, at);
}

const char* DecodeHeartbeat(const uint8_t* bytes, size_t length, const std::vector<HeartbeatKey>& accepted,
                            Heartbeat* out) {
  if (length < kMinHeartbeatBytes || length > kMaxHeartbeatBytes) return "bad-length";
  if (bytes[0] != kMagic0 || bytes[1] != kMagic1) return "unknown-format";
  if (bytes[2] != kVersion) return "bad-version";
  const HeartbeatKey* key = nullptr;
  for (const HeartbeatKey& candidate : accepted) {
    if (std::memcmp(candidate.id.data(), bytes + 4, kHeartbeatKeyIdBytes) == 0) {
      key = &candidate;
      break;
    }
  }
  if (key == nullptr) return "unknown-key";
  const size_t end = length - kHeartbeatMacBytes;
  uint8_t expected[kHeartbeatMacBytes];
  if (!Mac(key->secret, bytes, end, expected) || CRYPTO_memcmp(expected, bytes + end, kHeartbeatMacBytes) != 0)
    return "bad-mac";

  // Authentic from here on: anything that does not parse is a sender's bug.
  const uint8_t flags = bytes[3];
  if ((flags & ~kKnownFlags) != 0) return "malformed";
  size_t at = kHeaderBytes;
  if (!TakeName(bytes, end, &at, kMaxNodeNameBytes, &out->node) ||
      !TakeName(bytes, end, &at, kMaxIdentityBytes, &out->identity) || at + 2 > end)
    return "malformed";
  const size_t count = TakeUint(bytes + at, 2);
  at += 2;
  out->hears.clear();
  for (size_t i = 0; i < count; ++i) {
    RelayedCounter entry;
    if (!TakeName(bytes, end, &at, kMaxNodeNameBytes, &entry.node) || at + kHearsFixedBytes > end) return "malformed";
    const uint8_t entry_flags = bytes[at + 16];
    if ((entry_flags & ~kKnownHearsFlags) != 0) return "malformed";
    entry.started_at = TakeUint(bytes + at, 6);
    entry.seq = TakeUint(bytes + at + 6, 6);
    entry.age_ms = static_cast<uint32_t>(TakeUint(bytes + at + 12, 4));
    entry.candidate = (entry_flags & kHearsFlagCandidate) != 0;
    out->hears.push_back(entry);
    at += kHearsFixedBytes;
  }
  if (at != end) return "malformed";
  out->started_at = TakeUint(bytes + 12, 6);
  out->sent_at = TakeUint(bytes + 18, 6);
  out->seq = TakeUint(bytes + 24, 6);
  out->leaving = (flags & kFlagLeaving) != 0;
  out->candidate = (flags & kFlagCandidate) != 0;
  out->api_reachable = (flags & kFlagApiReachable) != 0;
  return nullptr;
}

bool IsStrictUtf8(const uint8_t* bytes, size_t length) {
  size_t i = 0;
  while (i < length) {
    const uint8_t lead = bytes[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // The continuation bytes a lead byte takes, and the range of the first one (Unicode Table 3-7).
    size_t more;
    uint8_t low = 0x80, high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) more = 1;
    else if (lead == 0xe0) more = 2, low = 0xa0;
    else if (lead >= 0xe1 && lead <= 0xec) more = 2;
    else if (lead == 0xed) more = 2, high = 0x9f;  // not a surrogate
    else if (lead >= 0xee && lead <= 0xef) more = 2;
    else if (lead == 0xf0) more = 3, low = 0x90;
    else if (lead >= 0xf1 && lead <= 0xf3) more = 3;
    else if (lead == 0xf4) more = 3, high = 0x8f;  // not above U+10FFFF
    else return false;
    if (length - i <= more) return false;
    if (bytes[i + 1] < low || bytes[i + 1] > high) return false;
    for (size_t k = 2; k <= more; ++k)
      if (bytes[i + k] < 0x80 || bytes[i + k] > 0xbf) return false;
    i += 1 + more;
  }
  return true;
}

}  // namespace blb
