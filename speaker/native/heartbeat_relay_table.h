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

  // What JavaScript's last applied decision took `node` to be: its incarnation and whether it is a candidate. A
  // peer's counter is relayed only as of the newest heartbeat that agrees with that: a relay of a peer's own counter
  // back to it is its acknowledgement (takeover-gate.ts), which says we count it live, so it must not run ahead of
  // the decision that released what the peer may take. A newer counter that disagrees (a new incarnation, a
  // changed candidacy) waits for the next decision; the older one relayed meanwhile is ignored by everyone else.
  void Decided(std::string_view node, double started_at, bool candidate);

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
    // JavaScript's decided view of the peer, and the newest counter that agrees with it: what is relayed.
    bool decided = false;
    double decided_started_at = -1;
    bool decided_candidate = false;
    double out_started_at = -1;
    double out_seq = -1;
    double out_learned_at = -kInfinity;
    bool out_candidate = false;
  };

  // Moves the relayed counter up to the newest one when it agrees with the decided view.
  static void Sync(Record& rec);

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
