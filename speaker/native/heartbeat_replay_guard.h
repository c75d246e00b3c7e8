// Replay protection and freshness for authenticated heartbeats, natively: the rules and drop details of
// speaker/cluster/heartbeat-replay-guard.ts (the reference; see it for why). Pure: the caller passes the wall clock.
//
//   HeartbeatReplayGuard guard(60000);
//   if (auto verdict = guard.Admit(hb, wall_now_ms); !verdict.ok) drop(verdict.reason, verdict.detail);
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "heartbeat_codec.h"

namespace blb {

class HeartbeatReplayGuard {
 public:
  struct Verdict {
    bool ok;
    const char* reason;  // "replayed" or "stale" when !ok
    std::string detail;  // an operator-facing sentence for the drop log when !ok
  };

  // Throws std::invalid_argument with the reference's message when freshness_ms is not positive or
  // forget_after_ms is less than twice it.
  explicit HeartbeatReplayGuard(double freshness_ms = 60000, double forget_after_ms = 600000);

  // Checks a heartbeat that passed authentication and, if it is new and fresh, records it.
  Verdict Admit(const Heartbeat& hb, double wall_now_ms);

  size_t size() const { return senders_.size(); }

 private:
  struct Sender {
    std::string identity;
    uint64_t started_at;
    uint64_t seq;
    double accepted_at;  // our wall clock when its last heartbeat was accepted
  };

  void Sweep(double wall_now_ms);

  double freshness_ms_;
  double forget_after_ms_;
  double last_sweep_;
  std::unordered_map<std::string, Sender> senders_;
  std::string key_;  // lookup scratch: no allocation per datagram once grown
};

// A number as JavaScript's String(n) writes it, for the values of these messages (e.g. 60, 1.5, 0.25).
std::string JsNumberText(double value);

}  // namespace blb
