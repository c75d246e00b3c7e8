// The heartbeat engine: the speakers' UDP heartbeats sent and received on a thread of their own, so a stalled
// JavaScript event loop (GC, CPU saturation) neither delays our heartbeats nor the timestamps of received ones.
// It owns the UDP socket, signs and sends a heartbeat every interval, authenticates and replay-checks received
// ones (heartbeat_codec.h, heartbeat_replay_guard.h), stamps them on the monotonic clock, keeps the relay table
// (heartbeat_relay_table.h) and queues events. Deciding anything from them is JavaScript's business.
//
// No JavaScript here: heartbeat_engine_js.cc makes it the JavaScript class HeartbeatEngine.
//
//   HeartbeatEngine engine(options, [] { /* events waiting: wake JavaScript */ });
//   engine.SetKeys(true, key, {key});
//   engine.SetPeers({peer});
//   for (const HeartbeatEvent& event : engine.Drain()) ...
//   engine.Close();
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "heartbeat_codec.h"
#include "heartbeat_relay_table.h"
#include "heartbeat_replay_guard.h"

namespace blb {

struct HeartbeatEngineOptions {
  uint16_t port = 0;       // bind port (0: any free one)
  uint16_t peer_port = 0;  // the port peers listen on; 0: the port bound
  std::string node;
  std::string identity;
  uint64_t started_at = 0;  // wall-clock ms
  double interval_ms = 100;
  double relay_within_ms = 1000;  // `hears` carries counters learned within this
  double freshness_ms = 60000;    // replay guard window
  double stall_limit_ms = 1000;   // periodic sending pauses while nobody called Feed() for this long
  // The keys in force from the start, as SetKeys takes them: nothing received is dropped as "no-key" for want of
  // a SetKeys call that had not come yet.
  bool has_signing = false;
  HeartbeatKey signing;
  std::vector<HeartbeatKey> accepted;
};

struct HeartbeatEvent {
  enum class Type { kHeartbeat, kSent, kDrop, kStalled, kResumed, kError };
  Type type;
  std::vector<uint8_t> datagram;  // kHeartbeat: the authenticated, admitted datagram
  std::string from;               // kHeartbeat, kDrop: sender address, "::ffff:" removed
  double at = 0;                  // kHeartbeat: received; kSent: handed to the kernel (monotonic ms)
  double ms = 0;                  // kStalled: how long nobody fed; kResumed: how long the stall lasted
  uint64_t seq = 0;               // kSent
  bool candidate = false;         // kSent
  bool leaving = false;           // kSent
  const char* reason = nullptr;   // kDrop: "no-key", a codec reason, "replayed" or "stale"
  std::string text;               // kDrop: detail (replay guard only); kError: message
  std::string code;               // kError: errno name, when the error is a system call's
};

// A failed system call while opening the socket.
struct HeartbeatSocketError : std::runtime_error {
  HeartbeatSocketError(int err, const char* syscall, const std::string& message)
      : std::runtime_error(message), err(err), syscall(syscall) {}
  int err;
  const char* syscall;
};

// A peer as JavaScript's last applied decision took it: its incarnation and whether it is a candidate.
struct DecidedPeer {
  std::string node;
  double started_at;
  bool candidate;
};

// A peer as the socket addresses it.
struct HeartbeatPeer {
  sockaddr_storage address;
  socklen_t length;
};

class HeartbeatEngine {
 public:
  // The most events kept for JavaScript; past it, new events are counted and dropped (see Drain).
  static constexpr size_t kMaxQueuedEvents = 65536;

  // Binds the socket and starts the thread, which sends at once and then every interval from the first key on (it
  // wakes when SetKeys gives it one, and when a Feed ends a stall). `notify` is called, from any thread and with the
  // engine's lock held (it must not call back into the engine), when the event queue goes from empty to non-empty.
  // Throws HeartbeatSocketError (EADDRINUSE: the port is taken), std::invalid_argument
  // (a freshness window the replay guard refuses) or std::system_error (no thread).
  HeartbeatEngine(const HeartbeatEngineOptions& options, std::function<void()> notify);
  ~HeartbeatEngine();  // Close()
  HeartbeatEngine(const HeartbeatEngine&) = delete;
  HeartbeatEngine& operator=(const HeartbeatEngine&) = delete;

  // Whether `text` is an IPv4 or IPv6 address (IPv6 link-local with an optional %scope); fills `peer` for this
  // engine's socket, or leaves `*usable` false for an IPv6 peer on an IPv4-only socket.
  bool ParsePeer(const std::string& text, HeartbeatPeer* peer, bool* usable) const;

  // No signing key: nothing is sent and everything received is dropped as "no-key". Also a Feed().
  void SetKeys(bool has_signing, HeartbeatKey signing, std::vector<HeartbeatKey> accepted);
  void SetPeers(std::vector<HeartbeatPeer> peers);  // also a Feed()
  void SetSelf(bool candidate, bool api_reachable);  // also a Feed()
  // What JavaScript's last applied decision took these peers to be (HeartbeatRelayTable::Decided); also a Feed().
  void SetDecided(const std::vector<DecidedPeer>& peers);
  void Feed();
  uint64_t NextSeq();
  void SendNow();      // also a Feed()
  void SendLeaving();  // also a Feed()
  // Every queued event, oldest first; when some were dropped for want of space, an error event saying how many
  // comes last.
  std::vector<HeartbeatEvent> Drain();
  // Stops the thread and closes the socket; idempotent.
  void Close();
  // Stops the thread only (the socket stays open): for process exit, see StopAllAtExit in the .cc file.
  void StopThread();

  uint16_t port() const { return port_; }

 private:
  void Run();
  void Receive(double deadline_ms, std::vector<uint8_t>* buffer);
  void HandleDatagramLocked(const uint8_t* bytes, size_t length, const sockaddr_storage& from, double at,
                            double wall_ms);
  void PeriodicSendLocked(double now_ms);
  void SendLocked(bool leaving_now);
  void FeedLocked(double now_ms);
  void ArmLocked(double next_send_ms);  // periodic sending runs, the next one at next_send_ms
  void PushLocked(HeartbeatEvent&& event);
  void Wake();

  HeartbeatEngineOptions options_;  // peer_port is settled in the constructor, then read-only
  const std::function<void()> notify_;
  int fd_ = -1;
  int wake_fd_ = -1;
  int family_ = AF_INET6;
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex thread_mutex_;  // one joiner: Close() or the exit handler

  std::mutex mutex_;  // guards everything below
  bool closed_ = false;
  bool has_signing_ = false;
  bool peers_known_ = false;  // SetPeers was called: periodic sending may start
  bool started_ = false;      // periodic sending was armed once
  HeartbeatKey signing_;
  std::vector<HeartbeatKey> accepted_;
  std::vector<HeartbeatPeer> peers_;
  bool candidate_ = false;
  bool api_reachable_ = false;
  bool leaving_ = false;
  uint64_t seq_ = 0;           // the last one sent
  double last_feed_ = 0;       // monotonic ms
  bool stalled_ = false;
  bool armed_ = false;         // periodic sending runs: a key, not leaving, not stalled
  double next_send_ = 0;       // monotonic ms, when armed
  bool oversize_reported_ = false;
  HeartbeatReplayGuard guard_;
  HeartbeatRelayTable table_;
  std::vector<HeartbeatEvent> events_;
  size_t events_dropped_ = 0;
  Heartbeat received_;                // decode scratch
  Heartbeat outgoing_;                // encode scratch
  std::vector<uint8_t> datagram_;     // encode scratch
};

}  // namespace blb
