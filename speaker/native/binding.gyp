# Builds speaker/native/build/Release/packet_socket.node: AF_PACKET sockets for the speaker's ARP/NDP responder.
# Node-API only (ABI-stable), so one build loads in any Node version >= the one providing NAPI_VERSION 8.
{
  "targets": [
    {
      "target_name": "packet_socket",
      "sources": ["packet_socket.cc", "fast_reply.cc", "errno_error.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-Wall", "-Wextra", "-Wno-missing-field-initializers"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    }
  ]
}
