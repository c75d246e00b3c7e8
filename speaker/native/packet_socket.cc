// AF_PACKET sockets for the speaker: bound to one interface, filtered in the kernel to ARP and
// NDP, read on the Node event loop (uv_poll, no threads), with an optional native fast path that
// answers ARP requests and Neighbour Solicitations for VIPs before JavaScript sees the frame.
//
// JavaScript (see speaker/l2/packet-socket.ts for the typed wrapper):
//   const s = new PacketSocket("eth0", "both", (frame, packetType, answered) => {}, (error) => {});
//   s.send(frame); s.addMembership(mac); s.setReplyTable(["10.0.0.10"], ["fd00::10"]); s.close();

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "errno_error.h"
#include "fast_reply.h"
#include "heartbeat_engine_js.h"
#include "link_filter.h"

namespace blb {
namespace {

constexpr int kFramesPerWakeup = 64;  // then yield to the rest of the event loop

// Back-off on POLLERR that comes back right after re-arming (within kPollErrorRepeatMs): the first error of a
// burst re-arms at once and is reported to JavaScript; each repeat stops polling for a doubling delay from
// kFirstPollBackoffMs up to kMaxPollBackoffMs and is not reported again. A frame read ends the burst.
constexpr uint64_t kPollErrorRepeatMs = 1000;
constexpr uint64_t kFirstPollBackoffMs = 10;
constexpr uint64_t kMaxPollBackoffMs = 5000;

// The delay before re-arming after the `errors`-th POLLERR of a burst (1-based): 0, 10, 20, 40, ... 5000 ms.
uint64_t PollBackoffMs(unsigned errors) {
  if (errors <= 1) return 0;
  const unsigned doublings = std::min(errors - 2, 16u);  // 10 ms << 9 is past the cap already
  return std::min(kFirstPollBackoffMs << doublings, kMaxPollBackoffMs);
}

// An Error for a Node-API call that failed with `status`, in Node's words when it has some. Call it right
// after the failed call: it reads the last error info.
Napi::Error NapiError(Napi::Env env, napi_status status, const char* call, const std::string& ifname,
                      const std::string& hint) {
  std::string why = "napi_status " + std::to_string(status);
  const napi_extended_error_info* info = nullptr;
  if (napi_get_last_error_info(env, &info) == napi_ok && info != nullptr && info->error_message != nullptr)
    why = std::string(info->error_message) + " (" + why + ")";
  return Napi::Error::New(env, std::string(call) + " on " + ifname + " failed: " + why + hint);
}

bool IsUint8Array(const Napi::Value& value) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

// One receive buffer per thread, shared by its sockets: frames are copied out before JavaScript runs,
// and poll callbacks on one loop never nest.
thread_local uint8_t receive_buffer[65536];

// Opens the socket so that it never sees an unfiltered frame: protocol 0 (receives nothing) until the
// filter is attached, then bound to the interface and protocol. Throws; never leaks the descriptor.
int OpenFilteredSocket(Napi::Env env, const std::string& ifname, uint16_t protocol, unsigned* ifindex,
                       Mac* mac) {
  const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    throw ErrnoError(env, err, "socket", ifname,
                     err == EPERM ? " — the speaker needs CAP_NET_RAW" : "");
  }
  auto fail = [&](int err, const char* syscall, const std::string& hint = "") {
    close(fd);
    return ErrnoError(env, err, syscall, ifname, hint);
  };
  const sock_fprog program = {sizeof kNeighborDiscoveryFilter / sizeof kNeighborDiscoveryFilter[0],
                              const_cast<sock_filter*>(kNeighborDiscoveryFilter)};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
    throw fail(errno, "setsockopt(SO_ATTACH_FILTER)");
  const int one = 1;  // don't hand our own transmissions back to us (Linux >= 4.20; older: harmless)
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) != 0 && errno != ENOPROTOOPT)
    throw fail(errno, "setsockopt(PACKET_IGNORE_OUTGOING)");

  if (ifname.empty() || ifname.size() >= IFNAMSIZ || (*ifindex = if_nametoindex(ifname.c_str())) == 0)
    throw fail(ENODEV, "if_nametoindex", " — no interface with that name in this network namespace");
  ifreq request{};
  std::memcpy(request.ifr_name, ifname.c_str(), ifname.size());
  if (ioctl(fd, SIOCGIFHWADDR, &request) != 0) throw fail(errno, "ioctl(SIOCGIFHWADDR)");
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    throw fail(EINVAL, "ioctl(SIOCGIFHWADDR)",
               " — not an Ethernet interface (ARPHRD " + std::to_string(request.ifr_hwaddr.sa_family) + ")");
  std::memcpy(mac->data(), request.ifr_hwaddr.sa_data, 6);

  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(protocol);
  address.sll_ifindex = static_cast<int>(*ifindex);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw fail(errno, "bind");
  return fd;
}

// Parses an array of IPs (strings, or 4/16-byte Uint8Arrays) into `out`; throws naming the bad entry.
template <size_t N>
void ParseAddresses(Napi::Env env, Napi::Value list, const char* family,
                    std::unordered_set<std::array<uint8_t, N>, AddressHash>* out) {
  if (!list.IsArray()) throw Napi::TypeError::New(env, std::string("reply table: ") + family + " must be an array");
  Napi::Array array = list.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value entry = array.Get(i);
    std::array<uint8_t, N> address{};
    bool valid = false;
    std::string shown = "not a string or Uint8Array";
    if (entry.IsString()) {
      const std::string text = entry.As<Napi::String>().Utf8Value();
      shown = "\"" + text + "\"";
      valid = inet_pton(N == 4 ? AF_INET : AF_INET6, text.c_str(), address.data()) == 1;
    } else if (IsUint8Array(entry)) {
      Napi::Uint8Array bytes = entry.As<Napi::Uint8Array>();
      shown = std::to_string(bytes.ByteLength()) + " bytes";
      valid = bytes.ByteLength() == N;
      if (valid) std::memcpy(address.data(), bytes.Data(), N);
    }
    if (!valid)
      throw Napi::TypeError::New(env, std::string("reply table: ") + family + "[" + std::to_string(i) + "] is " +
                                          shown + ", not an " + family + " address (a string, or " +
                                          std::to_string(N) + " bytes)");
    out->insert(address);
  }
}

ReplyTable ParseReplyTable(Napi::Env env, Napi::Value ipv4, Napi::Value ipv6) {
  ReplyTable table;
  ParseAddresses<4>(env, ipv4, "IPv4", &table.ipv4);
  ParseAddresses<16>(env, ipv6, "IPv6", &table.ipv6);
  return table;
}

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod<&PacketSocket::Send>("send"),
                           InstanceMethod<&PacketSocket::AddMembership>("addMembership"),
                           InstanceMethod<&PacketSocket::DropMembership>("dropMembership"),
                           InstanceMethod<&PacketSocket::SetReplyTable>("setReplyTable"),
                           InstanceMethod<&PacketSocket::SetFastPath>("setFastPath"),
                           InstanceMethod<&PacketSocket::SetAnswerUntil>("setAnswerUntil"),
                           InstanceMethod<&PacketSocket::RefLoop>("ref"),
                           InstanceMethod<&PacketSocket::UnrefLoop>("unref"),
                           InstanceMethod<&PacketSocket::Close>("close"),
                           InstanceMethod<&PacketSocket::Stats>("stats"),
                           InstanceAccessor<&PacketSocket::Ifindex>("ifindex"),
                           InstanceAccessor<&PacketSocket::MacAddress>("mac"),
                           InstanceAccessor<&PacketSocket::Closed>("closed"),
                       });
  }

  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsFunction() ||
        !info[3].IsFunction())
      throw Napi::TypeError::New(env, "usage: new PacketSocket(ifname, \"arp\" | \"ndp\" | \"both\", onFrame, onError)");
    ifname_ = info[0].As<Napi::String>().Utf8Value();
    const std::string protocols = info[1].As<Napi::String>().Utf8Value();
    uint16_t protocol;
    if (protocols == "arp") protocol = ETH_P_ARP;
    else if (protocols == "ndp") protocol = ETH_P_IPV6;
    else if (protocols == "both") protocol = ETH_P_ALL;
    else throw Napi::TypeError::New(env, "protocols must be \"arp\", \"ndp\" or \"both\", got \"" + protocols + "\"");

    on_frame_ = Napi::Persistent(info[2].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[3].As<Napi::Function>());
    async_context_ = std::make_unique<Napi::AsyncContext>(env, "PacketSocket", info.This().As<Napi::Object>());

    uv_loop_t* loop = nullptr;
    const napi_status loop_status = napi_get_uv_event_loop(env, &loop);
    if (loop_status != napi_ok || loop == nullptr)
      throw NapiError(env, loop_status, "napi_get_uv_event_loop", ifname_, " — no event loop to read the socket on");

    // Every failure below undoes what came before it: no descriptor, handle or hook is left behind.
    const int fd = OpenFilteredSocket(env, ifname_, protocol, &ifindex_, &mac_);
    auto* handles = new LoopHandles;
    int status = uv_poll_init(loop, &handles->poll, fd);
    if (status != 0) {
      delete handles;
      close(fd);
      throw ErrnoError(env, -status, "uv_poll_init", ifname_);
    }
    handles->poll.data = handles;
    handles->open = 1;
    auto abandon = [&]() {  // handles->owner is still null: their close callbacks only free them
      CloseHandles(handles);
      close(fd);
    };
    status = uv_timer_init(loop, &handles->timer);
    if (status != 0) {
      abandon();
      throw ErrnoError(env, -status, "uv_timer_init", ifname_);
    }
    handles->timer.data = handles;
    handles->open = 2;
    status = uv_poll_start(&handles->poll, UV_READABLE, OnPoll);
    if (status != 0) {
      abandon();
      throw ErrnoError(env, -status, "uv_poll_start", ifname_, " — cannot watch the socket on the event loop");
    }
    // Worker shutdown: close the handles before the loop goes away.
    const napi_status hook_status = napi_add_async_cleanup_hook(
        env, [](napi_async_cleanup_hook_handle, void* self) { static_cast<PacketSocket*>(self)->Shutdown(); }, this,
        &cleanup_hook_);
    if (hook_status != napi_ok) {
      Napi::Error error = NapiError(env, hook_status, "napi_add_async_cleanup_hook", ifname_, "");
      cleanup_hook_ = nullptr;
      abandon();
      throw error;
    }
    // An open socket stays alive (and keeps its callbacks) until closed; HandlesClosed() lets it go.
    uint32_t references = 0;
    const napi_status ref_status = napi_reference_ref(env, static_cast<napi_ref>(*this), &references);
    if (ref_status != napi_ok) {
      Napi::Error error = NapiError(env, ref_status, "napi_reference_ref", ifname_, "");
      if (napi_remove_async_cleanup_hook(cleanup_hook_) != napi_ok)  // we are throwing anyway: note it only
        std::fprintf(stderr, "packet socket on %s: napi_remove_async_cleanup_hook failed\n", ifname_.c_str());
      cleanup_hook_ = nullptr;
      abandon();
      throw error;
    }
    env_ = env;
    fd_ = fd;
    handles_ = handles;
    handles->owner = this;
  }

 private:
  // The libuv handles of one socket, allocated together and freed by the last of their uv_close callbacks,
  // which run on a later loop turn: after close(), or after a failed constructor has already freed the object.
  struct LoopHandles {
    uv_poll_t poll;
    uv_timer_t timer;              // re-arms `poll` after a POLLERR back-off
    int open = 0;                  // handles initialised and not yet closed: poll, then timer
    PacketSocket* owner = nullptr; // told when both are closed; null for a failed constructor
  };

  // Stops polling and any back-off at once; the memory goes on the next loop turn.
  static void CloseHandles(LoopHandles* handles) {
    auto closed = [](uv_handle_t* handle) {
      auto* handles = static_cast<LoopHandles*>(handle->data);
      if (--handles->open > 0) return;
      PacketSocket* owner = handles->owner;
      delete handles;
      if (owner != nullptr) owner->HandlesClosed();
    };
    const int open = handles->open;
    if (open >= 1) uv_close(reinterpret_cast<uv_handle_t*>(&handles->poll), closed);
    if (open >= 2) uv_close(reinterpret_cast<uv_handle_t*>(&handles->timer), closed);
  }

  // Stops polling, closes the descriptor and drops the callbacks and table at once; the handles themselves
  // are freed on the next loop turn, and then this object is left to the garbage collector.
  void Shutdown() {
    if (fd_ < 0) return;
    CloseHandles(handles_);
    close(fd_);
    fd_ = -1;
    on_frame_.Reset();
    on_error_.Reset();
    table_ = ReplyTable();
  }

  // From a uv_close callback: no JavaScript frame and no HandleScope here, so only C calls that cannot throw,
  // and failures go to stderr (there is nobody to throw to).
  void HandlesClosed() {
    handles_ = nullptr;
    uint32_t references = 0;
    const napi_status unref_status = napi_reference_unref(env_, static_cast<napi_ref>(*this), &references);
    if (unref_status != napi_ok)
      std::fprintf(stderr,
                   "packet socket on %s: napi_reference_unref failed (napi_status %d); "
                   "the closed socket's object is never freed\n",
                   ifname_.c_str(), static_cast<int>(unref_status));
    if (cleanup_hook_ != nullptr) {  // last: during worker shutdown, this lets the environment go
      const napi_status hook_status = napi_remove_async_cleanup_hook(cleanup_hook_);
      cleanup_hook_ = nullptr;
      if (hook_status != napi_ok)
        std::fprintf(stderr, "packet socket on %s: napi_remove_async_cleanup_hook failed (napi_status %d)\n",
                     ifname_.c_str(), static_cast<int>(hook_status));
    }
  }

  static void OnPoll(uv_poll_t* handle, int status, int) {
    static_cast<LoopHandles*>(handle->data)->owner->OnReadable(status);
  }

  // Polls again after POLLERR (libuv stopped the handle); 0 or a libuv error.
  int Rearm() {
    rearmed_at_ms_ = uv_now(handles_->poll.loop);
    return uv_poll_start(&handles_->poll, UV_READABLE, OnPoll);
  }

  // A socket that cannot poll again is deaf for good: JavaScript must hear of it.
  void ReportRearmFailure(Napi::Env env, int status) {
    Deliver(on_error_, {ErrnoError(env, -status, "uv_poll_start", ifname_,
                                   " — no longer receiving frames after an error; reopen the socket")
                            .Value()});
  }

  static void OnBackoffOver(uv_timer_t* timer) {
    PacketSocket* self = static_cast<LoopHandles*>(timer->data)->owner;
    const int status = self->Rearm();
    if (status == 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::CallbackScope callback_scope(env, *self->async_context_);
    self->ReportRearmFailure(env, status);
  }

  void OnReadable(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::CallbackScope callback_scope(env, *async_context_);
    if (status < 0) {
      // libuv stops the handle on POLLERR (and says EBADF). For a packet socket that is the interface
      // going down (ENETDOWN): the socket receives again once the interface is up, so fetch the real
      // error (which clears it), poll again, and report it. An error that keeps coming back right after
      // re-arming is not reported again, and polling pauses for longer each time (see PollBackoffMs).
      int err = 0;
      socklen_t err_length = sizeof err;
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_length) != 0 || err == 0) err = -status;
      if (uv_now(handles_->poll.loop) - rearmed_at_ms_ > kPollErrorRepeatMs) poll_errors_ = 0;
      if (poll_errors_ < 64) ++poll_errors_;  // the delay is capped long before
      const uint64_t delay = PollBackoffMs(poll_errors_);
      int rearm_status = 0;
      // If the timer cannot start (it only fails on a closing handle), re-arm now rather than go deaf.
      if (delay == 0 || uv_timer_start(&handles_->timer, OnBackoffOver, delay, 0) != 0) rearm_status = Rearm();
      if (poll_errors_ == 1)
        Deliver(on_error_, {ErrnoError(env, err, "recvfrom", ifname_,
                                       err == ENETDOWN ? " — the interface went down; frames resume when it is up" : "")
                                .Value()});
      if (rearm_status != 0 && fd_ >= 0) ReportRearmFailure(env, rearm_status);
      return;
    }
    for (int i = 0; i < kFramesPerWakeup && fd_ >= 0; ++i) {
      sockaddr_ll from{};
      socklen_t from_length = sizeof from;
      const ssize_t received = recvfrom(fd_, receive_buffer, sizeof receive_buffer, MSG_TRUNC,
                                        reinterpret_cast<sockaddr*>(&from), &from_length);
      if (received < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)  // e.g. ENETDOWN once when the link goes down
          Deliver(on_error_, {ErrnoError(env, errno, "recvfrom", ifname_).Value()});
        return;
      }
      poll_errors_ = 0;  // the socket works: a later POLLERR starts a new burst
      const size_t length = std::min(static_cast<size_t>(received), sizeof receive_buffer);
      // Past the deadline the answer waits for JavaScript, which decides afresh (see SetAnswerUntil).
      const bool answered = fast_path_ && static_cast<double>(uv_hrtime()) / 1e6 < answer_until_ms_ && Answer(env, receive_buffer, length);
      if (fd_ < 0) return;  // closed by onError
      if (!Deliver(on_frame_, {Napi::Buffer<uint8_t>::Copy(env, receive_buffer, length),
                               Napi::Number::New(env, from.sll_pkttype), Napi::Boolean::New(env, answered)}))
        return;
    }
  }

  bool Answer(Napi::Env env, const uint8_t* frame, size_t length) {
    uint8_t reply[kMaxReplyLength];
    const size_t reply_length = BuildFastReply(frame, length, mac_, table_, reply);
    if (reply_length == 0) return false;
    const int err = Transmit(reply, reply_length);
    if (err == 0) return true;
    Deliver(on_error_, {ErrnoError(env, err, "sendto", ifname_, " — native fast-path reply not sent").Value()});
    return false;
  }

  // Calls into JavaScript; a throwing callback becomes an uncaught exception, as for any event handler.
  bool Deliver(const Napi::FunctionReference& callback, std::initializer_list<napi_value> args) {
    if (callback.IsEmpty()) return false;  // closed meanwhile
    try {
      callback.Call(Value(), args);
      return true;
    } catch (const Napi::Error& error) {
      napi_fatal_exception(Env(), error.Value());
      return false;
    }
  }

  // Returns 0 or the errno of sendto.
  int Transmit(const uint8_t* frame, size_t length) {
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(static_cast<uint16_t>(frame[12] << 8 | frame[13]));
    to.sll_ifindex = static_cast<int>(ifindex_);
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame, 6);
    const ssize_t sent = sendto(fd_, frame, length, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    return sent < 0 ? errno : 0;
  }

  void ThrowIfClosed(Napi::Env env, const char* operation) {
    if (fd_ < 0) throw ErrnoError(env, EBADF, operation, ifname_, " — the packet socket is closed");
  }

  static Napi::Uint8Array BytesArgument(const Napi::CallbackInfo& info, const char* usage) {
    if (info.Length() < 1 || !IsUint8Array(info[0])) throw Napi::TypeError::New(info.Env(), usage);
    return info[0].As<Napi::Uint8Array>();
  }

  void Send(const Napi::CallbackInfo& info) {
    Napi::Uint8Array frame = BytesArgument(info, "send(frame: Uint8Array): frame must be bytes");
    if (frame.ByteLength() < 14)
      throw Napi::RangeError::New(info.Env(), "send: a frame needs at least the 14-byte Ethernet header, got " +
                                                  std::to_string(frame.ByteLength()) + " bytes");
    ThrowIfClosed(info.Env(), "sendto");
    const int err = Transmit(frame.Data(), frame.ByteLength());
    if (err != 0) throw ErrnoError(info.Env(), err, "sendto", ifname_);
  }

  void ChangeMembership(const Napi::CallbackInfo& info, int option, const char* name) {
    Napi::Uint8Array mac = BytesArgument(info, "membership: mac must be a 6-byte Uint8Array");
    if (mac.ByteLength() != 6 || (mac[0] & 1) == 0)
      throw Napi::TypeError::New(info.Env(), std::string(name) + ": expected a 6-byte multicast MAC address (first octet odd), got " +
                                                 std::to_string(mac.ByteLength()) + " bytes starting " + std::to_string(mac.ByteLength() ? mac[0] : 0));
    ThrowIfClosed(info.Env(), name);
    packet_mreq request{};
    request.mr_ifindex = static_cast<int>(ifindex_);
    request.mr_type = PACKET_MR_MULTICAST;
    request.mr_alen = 6;
    std::memcpy(request.mr_address, mac.Data(), 6);
    if (setsockopt(fd_, SOL_PACKET, option, &request, sizeof request) != 0)
      throw ErrnoError(info.Env(), errno, name, ifname_);
  }

  void AddMembership(const Napi::CallbackInfo& info) {
    ChangeMembership(info, PACKET_ADD_MEMBERSHIP, "setsockopt(PACKET_ADD_MEMBERSHIP)");
  }

  void DropMembership(const Napi::CallbackInfo& info) {
    ChangeMembership(info, PACKET_DROP_MEMBERSHIP, "setsockopt(PACKET_DROP_MEMBERSHIP)");
  }

  // Replaces the whole table; on a bad entry, or once closed, nothing changes.
  void SetReplyTable(const Napi::CallbackInfo& info) {
    ReplyTable table = ParseReplyTable(info.Env(), info[0], info[1]);
    ThrowIfClosed(info.Env(), "setReplyTable");
    table_ = std::move(table);
  }

  void SetFastPath(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsBoolean()) throw Napi::TypeError::New(info.Env(), "setFastPath(enabled: boolean)");
    fast_path_ = info[0].As<Napi::Boolean>().Value();
  }

  // The fast path answers only before this instant (ms on uv_hrtime's monotonic clock; Infinity by default):
  // the end of the speaker's heartbeat quorum as of its last decision. Frames read after an event-loop stall,
  // before the speaker has taken in the heartbeats that arrived meanwhile, are not answered on stale grounds.
  void SetAnswerUntil(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "setAnswerUntil(monotonicMs: number)");
    const double at = info[0].As<Napi::Number>().DoubleValue();
    if (std::isnan(at)) throw Napi::TypeError::New(info.Env(), "setAnswerUntil(monotonicMs: number): NaN");
    answer_until_ms_ = at;
  }

  // The back-off timer follows the poll handle: an unref()ed socket never holds the loop, a ref()ed one
  // holds it while polling is paused too.
  void RefLoop(const Napi::CallbackInfo&) {
    if (fd_ < 0) return;
    uv_ref(reinterpret_cast<uv_handle_t*>(&handles_->poll));
    uv_ref(reinterpret_cast<uv_handle_t*>(&handles_->timer));
  }

  void UnrefLoop(const Napi::CallbackInfo&) {
    if (fd_ < 0) return;
    uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->poll));
    uv_unref(reinterpret_cast<uv_handle_t*>(&handles_->timer));
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(); }

  // The kernel's counters since the previous call (reading them resets them): frames queued to this socket, and
  // frames dropped because its receive queue was full (the event loop did not read it in time).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    ThrowIfClosed(info.Env(), "getsockopt(PACKET_STATISTICS)");
    struct tpacket_stats stats {};
    socklen_t length = sizeof stats;
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0)
      throw ErrnoError(info.Env(), errno, "getsockopt(PACKET_STATISTICS)", ifname_);
    Napi::Object out = Napi::Object::New(info.Env());
    // tp_packets counts the dropped frames too.
    out.Set("packets", Napi::Number::New(info.Env(), stats.tp_packets));
    out.Set("drops", Napi::Number::New(info.Env(), stats.tp_drops));
    return out;
  }

  Napi::Value Ifindex(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ifindex_); }

  // One Buffer per socket, made on first use: the same object on every read (don't modify it).
  Napi::Value MacAddress(const Napi::CallbackInfo& info) {
    if (mac_value_.IsEmpty())
      mac_value_ = Napi::Persistent(Napi::Buffer<uint8_t>::Copy(info.Env(), mac_.data(), mac_.size()));
    return mac_value_.Value();
  }

  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }

  std::string ifname_;
  unsigned ifindex_ = 0;
  Mac mac_{};
  Napi::Reference<Napi::Buffer<uint8_t>> mac_value_;  // what `mac` returns, once read
  napi_env env_ = nullptr;
  int fd_ = -1;
  LoopHandles* handles_ = nullptr;  // until HandlesClosed(), which may come after close()
  unsigned poll_errors_ = 0;        // POLLERRs in the current burst
  uint64_t rearmed_at_ms_ = 0;      // loop time of the last re-arm after POLLERR
  napi_async_cleanup_hook_handle cleanup_hook_ = nullptr;
  Napi::FunctionReference on_frame_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  ReplyTable table_;
  bool fast_path_ = false;
  double answer_until_ms_ = std::numeric_limits<double>::infinity();
};

// What the fast path would send in reply to `frame`, for tests and diagnostics:
//   buildFastReply(frame, mac, ["10.0.0.10"], ["fd00::10"]) → Buffer | null
Napi::Value BuildFastReplyForJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !IsUint8Array(info[0]) || !IsUint8Array(info[1]))
    throw Napi::TypeError::New(env, "usage: buildFastReply(frame: Uint8Array, mac: Uint8Array, ipv4[], ipv6[])");
  Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
  Napi::Uint8Array mac_bytes = info[1].As<Napi::Uint8Array>();
  if (mac_bytes.ByteLength() != 6) throw Napi::TypeError::New(env, "buildFastReply: mac must be 6 bytes");
  Mac mac;
  std::memcpy(mac.data(), mac_bytes.Data(), 6);
  const ReplyTable table = ParseReplyTable(env, info[2], info[3]);
  uint8_t reply[kMaxReplyLength];
  const size_t length = BuildFastReply(frame.Data(), frame.ByteLength(), mac, table, reply);
  if (length == 0) return env.Null();
  return Napi::Buffer<uint8_t>::Copy(env, reply, length);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Define(env));
  exports.Set("buildFastReply", Napi::Function::New<BuildFastReplyForJs>(env, "buildFastReply"));
  exports.Set("HeartbeatEngine", DefineHeartbeatEngine(env));
  return exports;
}

}  // namespace
}  // namespace blb

static Napi::Object InitPacketSocket(Napi::Env env, Napi::Object exports) { return blb::Init(env, exports); }
NODE_API_MODULE(packet_socket, InitPacketSocket)
