#include "heartbeat_relay_table.h"

#include <algorithm>
#include <cmath>

namespace blb {

void HeartbeatRelayTable::Heard(const Heartbeat& hb, double now_ms) {
  if (hb.node == self_) return;
  Record& rec = Get(hb.node);
  const double started_at = static_cast<double>(hb.started_at);
  const double seq = static_cast<double>(hb.seq);
  // A datagram of an incarnation older than one we know (a late one from before a restart) says nothing about
  // the running process.
  if (started_at <= rec.left_started_at || started_at < rec.started_at) return;
  if (hb.leaving) {
    rec.left_started_at = std::max(rec.left_started_at, started_at);
    rec.left_at = now_ms;
    rec.candidate = false;
    return;
  }
  const bool reordered = started_at == rec.started_at && seq < rec.seq;
  Learn(rec, started_at, seq, hb.candidate, now_ms);
  if (!reordered) rec.candidate = hb.candidate;
  Sync(rec);
  for (const RelayedCounter& relayed : hb.hears) {
    if (relayed.node == self_ || relayed.node == hb.node) continue;
    Record& other = Get(relayed.node);
    const double relayed_started_at = static_cast<double>(relayed.started_at);
    if (relayed_started_at <= other.left_started_at) continue;
    // The counter was learned when whoever saw the datagram itself learned it, never later.
    Learn(other, relayed_started_at, static_cast<double>(relayed.seq), relayed.candidate,
          now_ms - static_cast<double>(relayed.age_ms));
    Sync(other);
  }
}

void HeartbeatRelayTable::Decided(std::string_view node, double started_at, bool candidate) {
  if (node == self_) return;
  Record& rec = Get(node);
  rec.decided = true;
  rec.decided_started_at = started_at;
  rec.decided_candidate = candidate;
  Sync(rec);
}

void HeartbeatRelayTable::Sync(Record& rec) {
  if (!rec.decided || rec.started_at != rec.decided_started_at || rec.candidate != rec.decided_candidate) return;
  rec.out_started_at = rec.started_at;
  rec.out_seq = rec.seq;
  rec.out_learned_at = rec.learned_at;
  rec.out_candidate = rec.candidate;
}

void HeartbeatRelayTable::Learn(Record& rec, double started_at, double seq, bool candidate, double learned_at) {
  if (started_at > rec.started_at) {
    rec.started_at = started_at;
    rec.seq = seq;
    rec.learned_at = learned_at;
    rec.candidate = candidate;
  } else if (started_at == rec.started_at && seq > rec.seq) {
    rec.seq = seq;
    rec.learned_at = std::max(rec.learned_at, learned_at);
    rec.candidate = candidate;
  }
}

void HeartbeatRelayTable::Relayed(double now_ms, double within_ms, std::vector<RelayedCounter>* out) {
  Sweep(now_ms);
  sorted_.clear();
  for (const auto& [node, rec] : records_) {
    const double age = now_ms - rec.out_learned_at;
    if (!(age < within_ms && rec.out_seq >= 0 && rec.left_started_at < rec.out_started_at)) continue;
    RelayedCounter counter;
    counter.node = node;
    counter.started_at = static_cast<uint64_t>(rec.out_started_at);
    counter.seq = static_cast<uint64_t>(rec.out_seq);
    // Math.round (age is never negative here but for clock rounding), then the wire's 2^32-1 cap.
    counter.age_ms = static_cast<uint32_t>(std::clamp(std::floor(age + 0.5), 0.0, 4294967295.0));
    counter.candidate = rec.out_candidate;
    sorted_.emplace_back(rec.out_learned_at, counter);
  }
  // Most recently learned first: when not all fit in one datagram, the freshest news goes out.
  std::stable_sort(sorted_.begin(), sorted_.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  out->clear();
  for (const auto& entry : sorted_) out->push_back(entry.second);
}

HeartbeatRelayTable::Record& HeartbeatRelayTable::Get(std::string_view node) {
  key_.assign(node);
  auto found = records_.find(key_);
  if (found == records_.end()) found = records_.emplace(key_, Record{}).first;
  return found->second;
}

void HeartbeatRelayTable::Sweep(double now_ms) {
  if (now_ms - last_sweep_ < kForgetAfterMs / 4 && now_ms >= last_sweep_) return;
  last_sweep_ = now_ms;
  for (auto it = records_.begin(); it != records_.end();) {
    const Record& rec = it->second;
    if (now_ms - std::max(rec.learned_at, rec.left_at) > kForgetAfterMs) it = records_.erase(it);
    else ++it;
  }
}

}  // namespace blb
