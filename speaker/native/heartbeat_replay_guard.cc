#include "heartbeat_replay_guard.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace blb {

HeartbeatReplayGuard::HeartbeatReplayGuard(double freshness_ms, double forget_after_ms)
    : freshness_ms_(freshness_ms),
      forget_after_ms_(forget_after_ms),
      last_sweep_(-std::numeric_limits<double>::infinity()) {
  if (!(freshness_ms > 0))
    throw std::invalid_argument("heartbeat freshness window must be positive, got " + JsNumberText(freshness_ms) +
                                " ms");
  // A datagram older than the last one accepted was sent at most `freshness_ms` after our accepted_at; it is
  // stale only once we are 2 × freshness_ms past that, so forgetting earlier would let it be replayed.
  if (!(forget_after_ms >= 2 * freshness_ms))
    throw std::invalid_argument("heartbeat senders must be remembered at least twice the freshness window (" +
                                JsNumberText(2 * freshness_ms) + " ms), got " + JsNumberText(forget_after_ms) +
                                " ms");
}

HeartbeatReplayGuard::Verdict HeartbeatReplayGuard::Admit(const Heartbeat& hb, double wall_now_ms) {
  Sweep(wall_now_ms);
  const double skew = wall_now_ms - static_cast<double>(hb.sent_at);
  const auto node = [&] { return std::string(hb.node); };  // only for a drop's detail
  if (std::fabs(skew) > freshness_ms_) {
    char how[64];
    // %.1f rounds the exact binary value as toFixed(1) does (no value of skew / 1000 is an exact tie).
    std::snprintf(how, sizeof how, skew > 0 ? "%.1f s before" : "%.1f s after", std::fabs(skew) / 1000);
    return {false, "stale",
            "heartbeat from " + node() + " was sent " + how + " our wall clock; node clocks must agree within " +
                JsNumberText(freshness_ms_ / 1000) +
                " s (the heartbeat freshness window, as the cluster's certificates already require): check NTP on "
                "both nodes"};
  }
  key_.assign(hb.node);
  auto known = senders_.find(key_);
  if (known != senders_.end()) {
    const Sender& s = known->second;
    const bool same_process = hb.identity == s.identity;
    if (same_process && (hb.started_at != s.started_at || hb.seq <= s.seq))
      return {false, "replayed",
              "heartbeat from " + node() + " (" + std::string(hb.identity) + ") repeats seq " + std::to_string(hb.seq) +
                  "; the highest seen is " + std::to_string(s.seq)};
    if (!same_process && hb.started_at <= s.started_at)
      return {false, "replayed",
              "heartbeat from " + node() + " comes from process " + std::string(hb.identity) + " started at " +
                  std::to_string(hb.started_at) + ", not newer than " + s.identity + " started at " +
                  std::to_string(s.started_at)};
  } else {
    known = senders_.emplace(key_, Sender{}).first;
  }
  Sender& s = known->second;
  s.identity.assign(hb.identity);
  s.started_at = hb.started_at;
  s.seq = hb.seq;
  s.accepted_at = wall_now_ms;
  return {true, nullptr, {}};
}

void HeartbeatReplayGuard::Sweep(double wall_now_ms) {
  // At most a few sweeps per forget period: cheap however many heartbeats arrive.
  if (wall_now_ms - last_sweep_ < forget_after_ms_ / 4 && wall_now_ms >= last_sweep_) return;
  last_sweep_ = wall_now_ms;
  for (auto it = senders_.begin(); it != senders_.end();) {
    if (wall_now_ms - it->second.accepted_at > forget_after_ms_) it = senders_.erase(it);
    else ++it;
  }
}

std::string JsNumberText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  if (value == std::trunc(value) && std::fabs(value) < 1e21) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  // The shortest text that reads back as the same double, as JavaScript prints it.
  char text[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

}  // namespace blb
