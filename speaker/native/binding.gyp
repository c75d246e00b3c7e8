# Builds speaker/native/build/Release/packet_socket.node: AF_PACKET sockets for the speaker's ARP/NDP responder,
# and the heartbeat engine (UDP heartbeats on a thread of their own; HMAC from the OpenSSL Node links in).
# Node-API only (ABI-stable): one build loads in any Node version that has NAPI_VERSION 8. Linux only.
{
  "targets": [
    {
      "target_name": "packet_socket",
      "sources": ["packet_socket.cc", "fast_reply.cc", "errno_error.cc",
                  "heartbeat_codec.cc", "heartbeat_replay_guard.cc", "heartbeat_relay_table.cc",
                  "heartbeat_engine.cc", "heartbeat_engine_js.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS!='linux'", {"type": "none", "sources": []}]
      ]
    }
  ]
}
