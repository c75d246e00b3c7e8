// The JavaScript class HeartbeatEngine over heartbeat_engine.h (see speaker/cluster/native-heartbeat.ts for the typed
// wrapper and the contract):
//   const engine = new HeartbeatEngine({ port, peerPort, node, identity, startedAt, intervalMs, relayWithinMs,
//                                        stallLimitMs, onEvents: () => handle(engine.drain()) });
#pragma once

#include <napi.h>

namespace blb {

Napi::Function DefineHeartbeatEngine(Napi::Env env);

}  // namespace blb
