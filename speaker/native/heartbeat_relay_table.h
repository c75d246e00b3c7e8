// The relay table of the native heartbeat engine: the newest heartbeat counter (incarnation, seq) of every
// peer this speaker knows of, directly or relayed, kept by the rules of MembershipEvidence.heartbeat()/learn()/
// relayed() in speaker/cluster/membership-evidence.ts (the reference), so the `hears` of our heartbeats stay fresh
// while JavaScript stalls. Only what `hears` needs: no acknowledgements, no leases. Pure: the caller passes the
// monotonic clock.
//
//   HeartbeatRelayTable table("node-a");
//   table.Heard(hb, now_ms);                       // an admitted heartbeat of another node
//   table.Relayed(now_ms, relay_within_ms, &hears);  // what our next heartbeat carries
#pragma once

#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "heartbeat_codec.h"

namespace blb {

class HeartbeatRelayTable {
 public:
  // A record is forgotten this long after its counter last grew (or its incarnation said it was leaving).
  static constexpr double kForgetAfterMs = 600000;

  explicit HeartbeatRelayTable(std::string self) : self_(std::move(self)) {}

  // Records an authenticated, admitted heartbeat received at monotonic `now_ms`; our own are ignored.
  void Heard(const Heartbeat& hb, double now_ms);

  // Fills `out` with the counters a heartbeat sent at `now_ms` relays: every peer whose counter grew less than
  // `within_ms` ago and whose incarnation has not said it is leaving, most recently learned first. The names view
  // the table: valid until the next Heard() or Relayed().
  void Relayed(double now_ms, double within_ms, std::vector<RelayedCounter>* out);

  size_t size() const { return records_.size(); }

 private:
  static constexpr double kInfinity = std::numeric_limits<double>::infinity();
  struct Record {
    double started_at = -1;  // newest incarnation known (directly or relayed)
    double seq = -1;
    double learned_at = -kInfinity;  // monotonic time at which the counter last grew
    bool candidate = false;
    double left_started_at = -kInfinity;  // incarnations up to this one said they were leaving
    double left_at = -kInfinity;          // when that was last heard (keeps the record for the forget period)
  };

  Record& Get(std::string_view node);
  static void Learn(Record& rec, double started_at, double seq, bool candidate, double learned_at);
  void Sweep(double now_ms);

  std::string self_;
  std::unordered_map<std::string, Record> records_;
  double last_sweep_ = -kInfinity;
  std::string key_;                                        // lookup scratch
  std::vector<std::pair<double, RelayedCounter>> sorted_;  // Relayed() scratch
};

}  // namespace blb
