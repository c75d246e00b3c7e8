#include "heartbeat_engine_js.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "errno_error.h"
#include "heartbeat_engine.h"

namespace blb {
namespace {

constexpr const char* kClosed = "heartbeat engine is closed";

bool IsUint8Array(const Napi::Value& value) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
}

std::string Shown(const Napi::Value& value) {
  if (value.IsString()) return "\"" + value.As<Napi::String>().Utf8Value() + "\"";
  if (value.IsNumber()) return value.ToString().Utf8Value();
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (IsUint8Array(value)) return std::to_string(value.As<Napi::Uint8Array>().ByteLength()) + " bytes";
  return std::string("a ") + (value.IsFunction() ? "function" : value.IsArray() ? "array" : "non-number");
}

// A number option: finite, in [min, max], whole when `whole`; `fallback` when absent and not `required`.
double NumberOption(const Napi::Object& options, const char* name, double min, double max, bool whole,
                    bool required = true, double fallback = 0) {
  Napi::Value value = options.Get(name);
  if (value.IsUndefined() && !required) return fallback;
  const double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
  if (!(number >= min && number <= max) || (whole && number != std::floor(number))) {
    const std::string range = max == INFINITY ? std::string(">= ") + JsNumberText(min)
                                              : "from " + JsNumberText(min) + " to " + JsNumberText(max);
    throw Napi::RangeError::New(options.Env(), std::string("heartbeat engine: ") + name + " must be " +
                                                   (whole ? "an integer " : "a number ") + range + ", got " +
                                                   Shown(value));
  }
  return number;
}

// A name of 1..max bytes of UTF-8, in the words of speaker/cluster/heartbeat-message.ts.
std::string NameOption(const Napi::Object& options, const char* name, size_t max) {
  Napi::Value value = options.Get(name);
  if (!value.IsString())
    throw Napi::TypeError::New(options.Env(), std::string("heartbeat engine: ") + name + " must be a string, got " +
                                                  Shown(value));
  std::string text = value.As<Napi::String>().Utf8Value();
  if (text.empty() || text.size() > max)
    throw Napi::RangeError::New(options.Env(), std::string("heartbeat ") + name + " must be 1 to " +
                                                   std::to_string(max) + " bytes of UTF-8, got " +
                                                   std::to_string(text.size()) + ": \"" + text.substr(0, 40) + "\"");
  return text;
}

HeartbeatKey KeyArgument(Napi::Env env, const Napi::Value& value, const std::string& what) {
  Napi::Value id = value.IsObject() ? value.As<Napi::Object>().Get("id") : env.Undefined();
  Napi::Value secret = value.IsObject() ? value.As<Napi::Object>().Get("secret") : env.Undefined();
  if (!IsUint8Array(id) || id.As<Napi::Uint8Array>().ByteLength() != kHeartbeatKeyIdBytes)
    throw Napi::TypeError::New(env, "setKeys: " + what + ".id must be the key's 8-byte id (heartbeatKeyOf), got " +
                                        Shown(id));
  if (!IsUint8Array(secret))
    throw Napi::TypeError::New(env, "setKeys: " + what + ".secret must be the key's bytes, got " + Shown(secret));
  HeartbeatKey key;
  Napi::Uint8Array id_bytes = id.As<Napi::Uint8Array>();
  Napi::Uint8Array secret_bytes = secret.As<Napi::Uint8Array>();
  std::copy(id_bytes.Data(), id_bytes.Data() + kHeartbeatKeyIdBytes, key.id.begin());
  key.secret.assign(secret_bytes.Data(), secret_bytes.Data() + secret_bytes.ByteLength());
  return key;
}

// An Error for a Node-API call that failed with `status`, in Node's words when it has some.
Napi::Error NapiError(Napi::Env env, napi_status status, const char* call) {
  std::string why = "napi_status " + std::to_string(status);
  const napi_extended_error_info* info = nullptr;
  if (napi_get_last_error_info(env, &info) == napi_ok && info != nullptr && info->error_message != nullptr)
    why = std::string(info->error_message) + " (" + why + ")";
  return Napi::Error::New(env, std::string(call) + " for the heartbeat engine failed: " + why);
}

// The socket error as Node's own system errors carry it: message, code, errno (negative) and syscall.
Napi::Error SocketError(Napi::Env env, const HeartbeatSocketError& error) {
  Napi::Error js = Napi::Error::New(env, error.what());
  js.Set("code", ErrnoName(error.err));
  js.Set("errno", Napi::Number::New(env, -error.err));
  js.Set("syscall", error.syscall);
  return js;
}

Napi::Object EventObject(Napi::Env env, HeartbeatEvent& event) {
  Napi::Object out = Napi::Object::New(env);
  switch (event.type) {
    case HeartbeatEvent::Type::kHeartbeat:
      out.Set("type", "heartbeat");
      out.Set("datagram", Napi::Buffer<uint8_t>::Copy(env, event.datagram.data(), event.datagram.size()));
      out.Set("from", event.from);
      out.Set("at", event.at);
      break;
    case HeartbeatEvent::Type::kSent:
      out.Set("type", "sent");
      out.Set("seq", static_cast<double>(event.seq));
      out.Set("at", event.at);
      out.Set("candidate", event.candidate);
      out.Set("leaving", event.leaving);
      break;
    case HeartbeatEvent::Type::kDrop:
      out.Set("type", "drop");
      out.Set("reason", event.reason);
      out.Set("from", event.from);
      if (!event.text.empty()) out.Set("detail", event.text);
      break;
    case HeartbeatEvent::Type::kStalled:
      out.Set("type", "stalled");
      out.Set("ms", event.ms);
      break;
    case HeartbeatEvent::Type::kResumed:
      out.Set("type", "resumed");
      out.Set("stalledMs", event.ms);
      break;
    case HeartbeatEvent::Type::kError:
      out.Set("type", "error");
      out.Set("message", event.text);
      if (!event.code.empty()) out.Set("code", event.code);
      break;
  }
  return out;
}

// On the JavaScript thread, for each empty → non-empty transition of the queue. A throwing onEvents becomes an
// uncaught exception, as for any event handler.
void CallOnEvents(Napi::Env env, Napi::Function on_events, std::nullptr_t*, void*) {
  if (static_cast<napi_env>(env) == nullptr || on_events.IsEmpty()) return;  // torn down meanwhile
  try {
    on_events.Call({});
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  }
}

class HeartbeatEngineJs : public Napi::ObjectWrap<HeartbeatEngineJs> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "HeartbeatEngine",
                       {
                           InstanceMethod<&HeartbeatEngineJs::SetKeys>("setKeys"),
                           InstanceMethod<&HeartbeatEngineJs::SetPeers>("setPeers"),
                           InstanceMethod<&HeartbeatEngineJs::SetSelf>("setSelf"),
                           InstanceMethod<&HeartbeatEngineJs::SetDecided>("setDecided"),
                           InstanceMethod<&HeartbeatEngineJs::Feed>("feed"),
                           InstanceMethod<&HeartbeatEngineJs::NextSeq>("nextSeq"),
                           InstanceMethod<&HeartbeatEngineJs::SendNow>("sendNow"),
                           InstanceMethod<&HeartbeatEngineJs::SendLeaving>("sendLeaving"),
                           InstanceMethod<&HeartbeatEngineJs::Drain>("drain"),
                           InstanceMethod<&HeartbeatEngineJs::Close>("close"),
                           InstanceAccessor<&HeartbeatEngineJs::Port>("port"),
                       });
  }

  explicit HeartbeatEngineJs(const Napi::CallbackInfo& info) : Napi::ObjectWrap<HeartbeatEngineJs>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw Napi::TypeError::New(env, "usage: new HeartbeatEngine(options), see speaker/cluster/native-heartbeat.ts");
    Napi::Object options = info[0].As<Napi::Object>();
    HeartbeatEngineOptions parsed;
    parsed.port = static_cast<uint16_t>(NumberOption(options, "port", 0, 65535, true));
    parsed.peer_port = static_cast<uint16_t>(NumberOption(options, "peerPort", 0, 65535, true));
    parsed.node = NameOption(options, "node", kMaxNodeNameBytes);
    parsed.identity = NameOption(options, "identity", kMaxIdentityBytes);
    parsed.started_at = static_cast<uint64_t>(NumberOption(options, "startedAt", 0, kMaxUint48, true));
    parsed.interval_ms = NumberOption(options, "intervalMs", 1, INFINITY, false);
    parsed.relay_within_ms = NumberOption(options, "relayWithinMs", 0, INFINITY, false);
    parsed.freshness_ms = NumberOption(options, "freshnessMs", 0, INFINITY, false, false, 60000);
    parsed.stall_limit_ms = NumberOption(options, "stallLimitMs", 0, INFINITY, false);
    // keys?: {signing: {id, secret} | null, accepted: {id, secret}[]}, as setKeys takes them.
    Napi::Value keys = options.Get("keys");
    if (!keys.IsUndefined()) {
      Napi::Value signing = keys.IsObject() ? keys.As<Napi::Object>().Get("signing") : env.Undefined();
      Napi::Value accepted = keys.IsObject() ? keys.As<Napi::Object>().Get("accepted") : env.Undefined();
      if (!accepted.IsArray() || !(signing.IsNull() || signing.IsObject()))
        throw Napi::TypeError::New(env, "heartbeat engine: keys must be {signing: {id, secret} | null, accepted: {id, secret}[]}");
      parsed.has_signing = !signing.IsNull();
      if (parsed.has_signing) parsed.signing = KeyArgument(env, signing, "signing");
      Napi::Array list = accepted.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); ++i)
        parsed.accepted.push_back(KeyArgument(env, list.Get(i), "accepted[" + std::to_string(i) + "]"));
    }
    Napi::Value on_events = options.Get("onEvents");
    if (!on_events.IsFunction())
      throw Napi::TypeError::New(env, "heartbeat engine: onEvents must be a function, got " + Shown(on_events));

    // Unref'd: a running engine does not keep the process alive by itself.
    on_events_ = OnEvents::New(env, on_events.As<Napi::Function>(), "HeartbeatEngine", 0, 1);
    on_events_.Unref(env);
    // Every failure below undoes what came before it: no thread, socket, hook or reference is left behind.
    auto release = [&] {
      if (on_events_.Release() != napi_ok)
        std::fprintf(stderr, "heartbeat engine: napi_release_threadsafe_function failed\n");
    };
    try {
      OnEvents notify = on_events_;
      engine_ = std::make_unique<HeartbeatEngine>(parsed, [notify] { notify.NonBlockingCall(); });
      port_ = engine_->port();
    } catch (const HeartbeatSocketError& error) {
      release();
      throw SocketError(env, error);
    } catch (const std::invalid_argument& error) {
      release();
      throw Napi::RangeError::New(env, error.what());
    } catch (const std::system_error& error) {
      release();
      throw Napi::Error::New(env, std::string("heartbeat engine: cannot start its thread: ") + error.what());
    }
    // Worker or process exit without close(): stop the thread before the environment goes.
    const napi_status hook_status = napi_add_env_cleanup_hook(env, OnEnvironmentCleanup, this);
    if (hook_status != napi_ok) {
      Napi::Error error = NapiError(env, hook_status, "napi_add_env_cleanup_hook");
      engine_.reset();
      release();
      throw error;
    }
    // An open engine stays alive (its thread sends heartbeats) until closed, however JavaScript holds it.
    uint32_t references = 0;
    const napi_status ref_status = napi_reference_ref(env, static_cast<napi_ref>(*this), &references);
    if (ref_status != napi_ok) {
      Napi::Error error = NapiError(env, ref_status, "napi_reference_ref");
      if (napi_remove_env_cleanup_hook(env, OnEnvironmentCleanup, this) != napi_ok)  // throwing anyway: note it
        std::fprintf(stderr, "heartbeat engine: napi_remove_env_cleanup_hook failed\n");
      engine_.reset();
      release();
      throw error;
    }
    env_ = env;
  }

  ~HeartbeatEngineJs() override { Shutdown(Caller::kFinalizer); }

 private:
  using OnEvents = Napi::TypedThreadSafeFunction<std::nullptr_t, void, CallOnEvents>;
  enum class Caller { kClose, kCleanupHook, kFinalizer };

  static void OnEnvironmentCleanup(void* self) {
    static_cast<HeartbeatEngineJs*>(self)->Shutdown(Caller::kCleanupHook);
  }

  // Joins the thread, closes the socket and lets the callback and this object go. No JavaScript frame is needed
  // (cleanup hook, finalizer), so failures go to stderr: there is nobody to throw to.
  void Shutdown(Caller caller) {
    if (!engine_) return;
    engine_->Close();
    engine_.reset();
    // Abort, not release: a notification still queued is never delivered, so onEvents is not called after close.
    const napi_status release_status = on_events_.Abort();
    if (release_status != napi_ok)
      std::fprintf(stderr, "heartbeat engine: napi_release_threadsafe_function(abort) failed (napi_status %d)\n",
                   static_cast<int>(release_status));
    if (caller == Caller::kFinalizer) return;  // the hook already ran (environment teardown), or close() did this
    if (caller == Caller::kClose) {
      const napi_status hook_status = napi_remove_env_cleanup_hook(env_, OnEnvironmentCleanup, this);
      if (hook_status != napi_ok)
        std::fprintf(stderr, "heartbeat engine: napi_remove_env_cleanup_hook failed (napi_status %d)\n",
                     static_cast<int>(hook_status));
    }
    uint32_t references = 0;
    const napi_status unref_status = napi_reference_unref(env_, static_cast<napi_ref>(*this), &references);
    if (unref_status != napi_ok)
      std::fprintf(stderr,
                   "heartbeat engine: napi_reference_unref failed (napi_status %d); the closed engine's object is "
                   "never freed\n",
                   static_cast<int>(unref_status));
  }

  HeartbeatEngine& Open(Napi::Env env) {
    if (!engine_) throw Napi::Error::New(env, kClosed);
    return *engine_;
  }

  // setKeys(signing: {id, secret} | null, accepted: {id, secret}[])
  void SetKeys(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    HeartbeatEngine& engine = Open(env);
    if (info.Length() < 2 || !info[1].IsArray() || !(info[0].IsNull() || info[0].IsObject()))
      throw Napi::TypeError::New(env, "usage: setKeys(signing: {id, secret} | null, accepted: {id, secret}[])");
    const bool has_signing = !info[0].IsNull();
    HeartbeatKey signing = has_signing ? KeyArgument(env, info[0], "signing") : HeartbeatKey{};
    Napi::Array list = info[1].As<Napi::Array>();
    std::vector<HeartbeatKey> accepted;
    accepted.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i)
      accepted.push_back(KeyArgument(env, list.Get(i), "accepted[" + std::to_string(i) + "]"));
    engine.SetKeys(has_signing, std::move(signing), std::move(accepted));
  }

  // setPeers(addresses: string[]); all or nothing.
  void SetPeers(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    HeartbeatEngine& engine = Open(env);
    if (info.Length() < 1 || !info[0].IsArray())
      throw Napi::TypeError::New(env, "usage: setPeers(addresses: string[])");
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<HeartbeatPeer> peers;
    peers.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value entry = list.Get(i);
      HeartbeatPeer peer;
      bool usable = false;
      if (!entry.IsString() || !engine.ParsePeer(entry.As<Napi::String>().Utf8Value(), &peer, &usable))
        throw Napi::TypeError::New(env, "setPeers: addresses[" + std::to_string(i) + "] is " + Shown(entry) +
                                            ", not an IPv4 or IPv6 address");
      if (usable) peers.push_back(peer);
    }
    engine.SetPeers(std::move(peers));
  }

  void SetSelf(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    HeartbeatEngine& engine = Open(env);
    if (info.Length() < 2 || !info[0].IsBoolean() || !info[1].IsBoolean())
      throw Napi::TypeError::New(env, "usage: setSelf(candidate: boolean, apiReachable: boolean)");
    engine.SetSelf(info[0].As<Napi::Boolean>().Value(), info[1].As<Napi::Boolean>().Value());
  }

  // setDecided(peers: {node: string, startedAt: number, candidate: boolean}[])
  void SetDecided(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    HeartbeatEngine& engine = Open(env);
    if (info.Length() < 1 || !info[0].IsArray())
      throw Napi::TypeError::New(env, "usage: setDecided(peers: {node, startedAt, candidate}[])");
    Napi::Array list = info[0].As<Napi::Array>();
    std::vector<DecidedPeer> peers;
    peers.reserve(list.Length());
    for (uint32_t i = 0; i < list.Length(); ++i) {
      Napi::Value entry = list.Get(i);
      Napi::Value node = entry.IsObject() ? entry.As<Napi::Object>().Get("node") : env.Undefined();
      Napi::Value started_at = entry.IsObject() ? entry.As<Napi::Object>().Get("startedAt") : env.Undefined();
      Napi::Value candidate = entry.IsObject() ? entry.As<Napi::Object>().Get("candidate") : env.Undefined();
      if (!node.IsString() || !started_at.IsNumber() || !candidate.IsBoolean())
        throw Napi::TypeError::New(env, "setDecided: peers[" + std::to_string(i) + "] must be {node: string, startedAt: number, candidate: boolean}, got " + Shown(entry));
      peers.push_back({node.As<Napi::String>().Utf8Value(), started_at.As<Napi::Number>().DoubleValue(), candidate.As<Napi::Boolean>().Value()});
    }
    engine.SetDecided(peers);
  }

  void Feed(const Napi::CallbackInfo& info) { Open(info.Env()).Feed(); }

  Napi::Value NextSeq(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(Open(info.Env()).NextSeq()));
  }

  void SendNow(const Napi::CallbackInfo& info) { Open(info.Env()).SendNow(); }

  void SendLeaving(const Napi::CallbackInfo& info) { Open(info.Env()).SendLeaving(); }

  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<HeartbeatEvent> events = Open(env).Drain();
    Napi::Array out = Napi::Array::New(env, events.size());
    for (size_t i = 0; i < events.size(); ++i) out.Set(static_cast<uint32_t>(i), EventObject(env, events[i]));
    return out;
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(Caller::kClose); }

  Napi::Value Port(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_); }

  napi_env env_ = nullptr;
  std::unique_ptr<HeartbeatEngine> engine_;  // null once closed
  OnEvents on_events_;
  uint16_t port_ = 0;  // the bound port, also once closed
};

}  // namespace

Napi::Function DefineHeartbeatEngine(Napi::Env env) { return HeartbeatEngineJs::Define(env); }

}  // namespace blb
