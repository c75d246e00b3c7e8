#include "heartbeat_engine.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <openssl/crypto.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "errno_error.h"

namespace blb {
namespace {

constexpr int kReceiveBufferBytes = 1 << 20;  // the kernel caps it at net.core.rmem_max
constexpr size_t kReceiveBytes = 65536;        // more than any UDP payload: a longer one is cut (MSG_TRUNC)

double MonotonicMs() {  // the clock of uv_hrtime() and process.hrtime()
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double WallMs() {  // Date.now()
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec / 1000000);
}

std::string PortInUseMessage(uint16_t port) {
  return "heartbeat port " + std::to_string(port) +
         "/udp is already in use on this node; pick another with --heartbeat-port (all speakers must agree)";
}

// Opens and binds a UDP socket of `family` on the wildcard address; the fd, or -errno with `*syscall` set.
int BindSocket(int family, uint16_t port, const char** syscall) {
  const int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *syscall = "socket";
    return -errno;
  }
  int err = 0;
  if (family == AF_INET6) {
    const int off = 0;  // dual-stack: IPv4 peers too, as ::ffff:a.b.c.d
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    address.sin6_addr = in6addr_any;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0)
      err = errno, *syscall = "setsockopt(IPV6_V6ONLY)";
    else if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      err = errno, *syscall = "bind";
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) err = errno, *syscall = "bind";
  }
  if (err != 0) {
    close(fd);
    return -err;
  }
  return fd;
}

// The sender's address as Node's dgram reports it, less a leading "::ffff:".
std::string AddressText(const sockaddr_storage& from) {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = "";
  if (from.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(from).sin_addr, text, sizeof text);
    return text;
  }
  const auto& from6 = reinterpret_cast<const sockaddr_in6&>(from);
  if (IN6_IS_ADDR_V4MAPPED(&from6.sin6_addr)) {
    inet_ntop(AF_INET, &from6.sin6_addr.s6_addr[12], text, sizeof text);
    return text;
  }
  inet_ntop(AF_INET6, &from6.sin6_addr, text, sizeof text);
  std::string address = text;
  if (IN6_IS_ADDR_LINKLOCAL(&from6.sin6_addr) && from6.sin6_scope_id != 0) {
    char name[IF_NAMESIZE];
    address += '%';
    address += if_indextoname(from6.sin6_scope_id, name) != nullptr ? name : std::to_string(from6.sin6_scope_id);
  }
  return address;
}

// A route to the peer is gone (link down, peer's port closed): not ours to report, as in
// speaker/cluster/heartbeat-channel.ts.
bool IgnoredSendError(int err) {
  return err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN || err == ECONNREFUSED || err == EPERM;
}

// Every engine whose thread runs. process.exit() calls exit() without the environment's cleanup hooks, and
// exit() runs OpenSSL's own atexit cleanup, which frees what HMAC() uses while a thread may be in it. Our
// handler, registered after OpenSSL's, runs before it and stops every thread. Never freed: static destructors
// run at exit too, in an order of their own.
std::mutex& RunningMutex() {
  static auto* mutex = new std::mutex;
  return *mutex;
}

std::unordered_set<HeartbeatEngine*>& Running() {
  static auto* engines = new std::unordered_set<HeartbeatEngine*>;
  return *engines;
}

void StopAllAtExit() {
  std::vector<HeartbeatEngine*> engines;
  {
    std::lock_guard<std::mutex> lock(RunningMutex());
    engines.assign(Running().begin(), Running().end());
  }
  for (HeartbeatEngine* engine : engines) engine->StopThread();
}

HeartbeatEvent ErrorEvent(std::string message, std::string code = "") {
  HeartbeatEvent event{HeartbeatEvent::Type::kError};
  event.text = std::move(message);
  event.code = std::move(code);
  return event;
}

}  // namespace

HeartbeatEngine::HeartbeatEngine(const HeartbeatEngineOptions& options, std::function<void()> notify)
    : options_(options), notify_(std::move(notify)), guard_(options.freshness_ms), table_(options.node) {
  // One dual-stack socket; IPv4 only where the kernel has no IPv6. A port in use is in use on both.
  const char* syscall = "";
  int fd = BindSocket(AF_INET6, options.port, &syscall);
  if (fd == -EADDRINUSE) throw HeartbeatSocketError(EADDRINUSE, "bind", PortInUseMessage(options.port));
  if (fd < 0) {
    fd = BindSocket(AF_INET, options.port, &syscall);
    if (fd == -EADDRINUSE) throw HeartbeatSocketError(EADDRINUSE, "bind", PortInUseMessage(options.port));
    if (fd < 0) {
      const std::string subject = "heartbeat port " + std::to_string(options.port) + "/udp";
      throw HeartbeatSocketError(-fd, syscall,
                                 std::string(syscall) + " on " + subject + ": " + std::strerror(-fd) + " (" +
                                     ErrnoName(-fd) + ")");
    }
    family_ = AF_INET;
  }
  auto fail = [&](int err, const char* call) {
    close(fd);
    if (wake_fd_ >= 0) close(wake_fd_);
    return HeartbeatSocketError(err, call, std::string(call) + " on the heartbeat socket: " + std::strerror(err) +
                                               " (" + ErrnoName(err) + ")");
  };
  const int receive_buffer = kReceiveBufferBytes;  // a burst of heartbeats while this thread waits for the lock
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);  // best effort
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) throw fail(errno, "getsockname");
  port_ = ntohs(family_ == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                    : reinterpret_cast<sockaddr_in&>(bound).sin_port);
  if (options_.peer_port == 0) options_.peer_port = port_;  // peers listen where we do (port 0: the one bound)
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw fail(errno, "eventfd");
  last_feed_ = MonotonicMs();
  has_signing_ = options.has_signing;
  signing_ = options.signing;
  accepted_ = options.accepted;
  // Not armed yet: the first heartbeat goes once JavaScript has said who the peers are (SetPeers) and holds a key.  // nobody else sees the engine yet: the first heartbeat goes as soon as there is a key
  fd_ = fd;
  // OpenSSL registers its cleanup when first initialised: make sure that was before ours.
  static const bool exit_handler = OPENSSL_init_crypto(0, nullptr) == 1 && std::atexit(StopAllAtExit) == 0;
  if (!exit_handler) throw fail(ENOMEM, "atexit");  // cannot exit safely
  std::lock_guard<std::mutex> lock(RunningMutex());
  try {
    Running().insert(this);
    thread_ = std::thread(&HeartbeatEngine::Run, this);
  } catch (...) {
    Running().erase(this);
    close(fd);
    close(wake_fd_);
    throw;
  }
}

HeartbeatEngine::~HeartbeatEngine() { Close(); }

void HeartbeatEngine::Close() {
  {
    std::lock_guard<std::mutex> lock(RunningMutex());
    if (Running().erase(this) == 0) return;  // closed before
  }
  StopThread();
  close(fd_);
  close(wake_fd_);
}

void HeartbeatEngine::StopThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (!thread_.joinable()) return;
  Wake();
  thread_.join();
}

bool HeartbeatEngine::ParsePeer(const std::string& text, HeartbeatPeer* peer, bool* usable) const {
  *peer = HeartbeatPeer{};
  *usable = true;
  in_addr ipv4;
  if (inet_pton(AF_INET, text.c_str(), &ipv4) == 1) {
    if (family_ == AF_INET) {
      auto& to = reinterpret_cast<sockaddr_in&>(peer->address);
      to.sin_family = AF_INET;
      to.sin_port = htons(options_.peer_port);
      to.sin_addr = ipv4;
      peer->length = sizeof to;
    } else {
      auto& to = reinterpret_cast<sockaddr_in6&>(peer->address);
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(options_.peer_port);
      to.sin6_addr.s6_addr[10] = 0xff;  // ::ffff:a.b.c.d
      to.sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(&to.sin6_addr.s6_addr[12], &ipv4, 4);
      peer->length = sizeof to;
    }
    return true;
  }
  const size_t percent = text.find('%');
  const std::string address = text.substr(0, percent);
  auto& to = reinterpret_cast<sockaddr_in6&>(peer->address);
  if (inet_pton(AF_INET6, address.c_str(), &to.sin6_addr) != 1) return false;
  if (percent != std::string::npos) {
    const std::string scope = text.substr(percent + 1);
    char* end = nullptr;
    const unsigned long number = std::strtoul(scope.c_str(), &end, 10);
    to.sin6_scope_id = !scope.empty() && *end == '\0' ? static_cast<uint32_t>(number) : if_nametoindex(scope.c_str());
    if (to.sin6_scope_id == 0) return false;
  }
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(options_.peer_port);
  peer->length = sizeof to;
  *usable = family_ == AF_INET6;  // speaker/cluster/heartbeat-channel.ts skips IPv6 peers on an IPv4-only socket too
  return true;
}

void HeartbeatEngine::SetKeys(bool has_signing, HeartbeatKey signing, std::vector<HeartbeatKey> accepted) {
  std::lock_guard<std::mutex> lock(mutex_);
  // JavaScript runs: the time it spent without a key is no stall.
  const double now = MonotonicMs();
  FeedLocked(now);
  has_signing_ = has_signing;
  signing_ = std::move(signing);
  accepted_ = std::move(accepted);
  // The first key (or one after none), once the peers are known: the thread sends at once rather than an
  // interval later. It races with whatever JavaScript does next (setSelf), as any periodic heartbeat does.
  if (has_signing_ && peers_known_ && !armed_ && !leaving_ && !stalled_ && !closed_) {
    started_ = true;
    ArmLocked(now);
    Wake();
  }
}

void HeartbeatEngine::SetPeers(std::vector<HeartbeatPeer> peers) {
  std::lock_guard<std::mutex> lock(mutex_);
  const double now = MonotonicMs();
  FeedLocked(now);
  peers_ = std::move(peers);
  peers_known_ = true;
  // The first peer list, with a key: the first heartbeat goes at once, to them.
  if (has_signing_ && !armed_ && !leaving_ && !stalled_ && !closed_ && !started_) {
    started_ = true;
    ArmLocked(now);
    Wake();
  }
}

void HeartbeatEngine::SetSelf(bool candidate, bool api_reachable) {
  std::lock_guard<std::mutex> lock(mutex_);
  candidate_ = candidate;
  api_reachable_ = api_reachable;
  FeedLocked(MonotonicMs());
}

void HeartbeatEngine::Feed() {
  std::lock_guard<std::mutex> lock(mutex_);
  FeedLocked(MonotonicMs());
}

void HeartbeatEngine::SetDecided(const std::vector<DecidedPeer>& peers) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const DecidedPeer& peer : peers) table_.Decided(peer.node, peer.started_at, peer.candidate);
  FeedLocked(MonotonicMs());
}

uint64_t HeartbeatEngine::NextSeq() {
  std::lock_guard<std::mutex> lock(mutex_);
  return seq_ + 1;
}

void HeartbeatEngine::SendNow() {
  std::lock_guard<std::mutex> lock(mutex_);
  FeedLocked(MonotonicMs());
  SendLocked(false);
}

void HeartbeatEngine::SendLeaving() {
  std::lock_guard<std::mutex> lock(mutex_);
  FeedLocked(MonotonicMs());
  leaving_ = true;
  armed_ = false;  // the thread sees it at its next wakeup and sends no more
  SendLocked(true);
}

std::vector<HeartbeatEvent> HeartbeatEngine::Drain() {
  std::vector<HeartbeatEvent> events;
  std::lock_guard<std::mutex> lock(mutex_);
  events.swap(events_);
  if (events_dropped_ > 0) {
    events.push_back(ErrorEvent("heartbeat event queue full: " + std::to_string(events_dropped_) +
                                " events dropped (JavaScript did not drain the heartbeat engine in time)"));
    events_dropped_ = 0;
  }
  return events;
}

void HeartbeatEngine::Wake() {
  const uint64_t one = 1;
  // Only fails when the counter is about to overflow: the thread has a wakeup pending then anyway.
  if (write(wake_fd_, &one, sizeof one) < 0) return;
}

void HeartbeatEngine::Run() {
  std::vector<uint8_t> buffer(kReceiveBytes);
  for (;;) {
    double deadline = INFINITY;  // of the next periodic heartbeat
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;
      if (armed_) {
        const double now = MonotonicMs();
        if (now >= next_send_) PeriodicSendLocked(now);
        if (armed_) deadline = next_send_;
      }
    }
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    timespec timeout{};
    const double wait = deadline - MonotonicMs();
    if (std::isfinite(deadline) && wait > 0) {
      timeout.tv_sec = static_cast<time_t>(wait / 1e3);
      timeout.tv_nsec = static_cast<long>((wait - static_cast<double>(timeout.tv_sec) * 1e3) * 1e6);
    }
    const int ready = ppoll(fds, 2, std::isfinite(deadline) ? &timeout : nullptr, nullptr);
    if (ready < 0) {
      if (errno == EINTR) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      PushLocked(ErrorEvent(std::string("ppoll on the heartbeat socket: ") + std::strerror(errno), ErrnoName(errno)));
      continue;  // cannot happen with valid descriptors; the next periodic send still goes out
    }
    if (fds[1].revents != 0) {
      uint64_t wakeups;
      if (read(wake_fd_, &wakeups, sizeof wakeups) < 0) {}  // EAGAIN: someone else's wakeup was read already
    }
    if (fds[0].revents != 0) Receive(deadline, &buffer);
  }
}

// Reads every datagram waiting, or until the next periodic heartbeat is due.
void HeartbeatEngine::Receive(double deadline_ms, std::vector<uint8_t>* buffer) {
  for (;;) {
    sockaddr_storage from{};
    socklen_t from_length = sizeof from;
    const ssize_t received = recvfrom(fd_, buffer->data(), buffer->size(), MSG_DONTWAIT | MSG_TRUNC,
                                      reinterpret_cast<sockaddr*>(&from), &from_length);
    if (received < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      // An ICMP error of an earlier send (e.g. ECONNREFUSED): the datagrams behind it are still there.
      if (IgnoredSendError(err)) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      PushLocked(ErrorEvent(std::string("recvfrom on the heartbeat socket: ") + std::strerror(err) + " (" +
                                ErrnoName(err) + ")",
                            ErrnoName(err)));
      return;
    }
    const double at = MonotonicMs();
    const double wall = WallMs();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (closed_) return;
      // A datagram longer than the buffer was cut: its real length still makes it "bad-length".
      HandleDatagramLocked(buffer->data(), static_cast<size_t>(received), from, at, wall);
    }
    if (at >= deadline_ms) return;
  }
}

void HeartbeatEngine::HandleDatagramLocked(const uint8_t* bytes, size_t length, const sockaddr_storage& from,
                                           double at, double wall_ms) {
  HeartbeatEvent drop{HeartbeatEvent::Type::kDrop};
  if (!has_signing_) {
    drop.reason = "no-key";
  } else if (length > kReceiveBytes) {
    drop.reason = "bad-length";
  } else if (const char* reason = DecodeHeartbeat(bytes, length, accepted_, &received_)) {
    drop.reason = reason;
  } else {
    if (received_.node == options_.node) return;  // our own, e.g. we are in our peer list: not counted
    HeartbeatReplayGuard::Verdict verdict = guard_.Admit(received_, wall_ms);
    if (!verdict.ok) {
      drop.reason = verdict.reason;
      drop.text = std::move(verdict.detail);
    } else {
      table_.Heard(received_, at);
      HeartbeatEvent heartbeat{HeartbeatEvent::Type::kHeartbeat};
      heartbeat.datagram.assign(bytes, bytes + length);
      heartbeat.from = AddressText(from);
      heartbeat.at = at;
      PushLocked(std::move(heartbeat));
      return;
    }
  }
  drop.from = AddressText(from);
  PushLocked(std::move(drop));
}

void HeartbeatEngine::ArmLocked(double next_send_ms) {
  armed_ = true;
  next_send_ = next_send_ms;
}

void HeartbeatEngine::FeedLocked(double now_ms) {
  const double silent_since = last_feed_;
  last_feed_ = now_ms;
  if (!stalled_) return;
  stalled_ = false;
  HeartbeatEvent resumed{HeartbeatEvent::Type::kResumed};
  resumed.ms = now_ms - silent_since;
  PushLocked(std::move(resumed));
  if (has_signing_ && !leaving_ && !closed_) {  // a heartbeat is overdue: now, then every interval
    ArmLocked(now_ms);
    Wake();
  }
}

void HeartbeatEngine::PeriodicSendLocked(double now_ms) {
  if (leaving_ || !has_signing_) {  // SetKeys re-arms
    armed_ = false;
    return;
  }
  if (now_ms - last_feed_ > options_.stall_limit_ms) {  // the next Feed re-arms
    armed_ = false;
    stalled_ = true;
    HeartbeatEvent stalled{HeartbeatEvent::Type::kStalled};
    stalled.ms = now_ms - last_feed_;
    PushLocked(std::move(stalled));
    return;
  }
  SendLocked(false);
  // An absolute schedule; more than an interval behind (this thread was not scheduled), start afresh from now
  // rather than send a burst.
  const double scheduled = next_send_;
  next_send_ = now_ms - scheduled > options_.interval_ms ? now_ms + options_.interval_ms
                                                          : scheduled + options_.interval_ms;
}

void HeartbeatEngine::SendLocked(bool leaving_now) {
  if (!has_signing_ || closed_) return;
  outgoing_.node = options_.node;
  outgoing_.identity = options_.identity;
  outgoing_.started_at = options_.started_at;
  outgoing_.sent_at = static_cast<uint64_t>(WallMs());
  outgoing_.seq = ++seq_;
  outgoing_.leaving = leaving_ || leaving_now;
  outgoing_.candidate = candidate_;
  outgoing_.api_reachable = api_reachable_;
  table_.Relayed(MonotonicMs(), options_.relay_within_ms, &outgoing_.hears);
  size_t hears_sent = 0;
  if (!EncodeHeartbeat(outgoing_, signing_, &datagram_, &hears_sent)) {
    PushLocked(ErrorEvent("heartbeat " + std::to_string(outgoing_.seq) +
                          " not sent: OpenSSL failed to compute its HMAC-SHA-256"));
    return;
  }
  if (hears_sent < outgoing_.hears.size()) {
    if (!oversize_reported_) {
      size_t size = HeartbeatBytesWithoutHears(outgoing_);
      for (const RelayedCounter& entry : outgoing_.hears) size += HearsEntryBytes(entry);
      PushLocked(ErrorEvent("heartbeat of " + std::to_string(size) + " bytes with " +
                            std::to_string(outgoing_.hears.size()) + " entries in hears is over the " +
                            std::to_string(kMaxHeartbeatBytes) + "-byte limit of one UDP datagram: sent with the " +
                            std::to_string(hears_sent) + " most recently learned entries (reported once)"));
      oversize_reported_ = true;
    }
  } else {
    oversize_reported_ = false;
  }
  // One error event per heartbeat at most, naming the first peer that failed.
  int first_error = 0;
  size_t failed = 0;
  std::string first_peer;
  for (const HeartbeatPeer& peer : peers_) {
    const ssize_t sent = sendto(fd_, datagram_.data(), datagram_.size(), MSG_DONTWAIT,
                                reinterpret_cast<const sockaddr*>(&peer.address), peer.length);
    if (sent >= 0 || IgnoredSendError(errno)) continue;
    if (failed++ == 0) {
      first_error = errno;
      first_peer = AddressText(peer.address);
    }
  }
  if (failed > 0) {
    std::string message = "sendto " + first_peer + " port " + std::to_string(options_.peer_port) +
                          "/udp: " + std::strerror(first_error) + " (" + ErrnoName(first_error) + ")";
    if (failed > 1) message += " and " + std::to_string(failed - 1) + " more peers";
    PushLocked(ErrorEvent(std::move(message), ErrnoName(first_error)));
  }
  HeartbeatEvent sent{HeartbeatEvent::Type::kSent};
  sent.seq = outgoing_.seq;
  sent.at = MonotonicMs();
  sent.candidate = outgoing_.candidate;
  sent.leaving = outgoing_.leaving;
  PushLocked(std::move(sent));
}

void HeartbeatEngine::PushLocked(HeartbeatEvent&& event) {
  if (events_.size() >= kMaxQueuedEvents) {
    ++events_dropped_;
    return;
  }
  const bool was_empty = events_.empty();
  events_.push_back(std::move(event));
  if (was_empty) notify_();
}

}  // namespace blb
