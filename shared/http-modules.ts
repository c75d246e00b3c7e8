/**
 * node:http and node:https, loaded as CommonJS modules are. An ESM `import { request } from "node:http"`
 * reads every export of the module to build its namespace, and reading `WebSocket`, `CloseEvent` or
 * `MessageEvent` loads Node's bundled undici with http2, zlib, web streams and worker_threads: about
 * 9 MB resident (2 MB of heap) in a process that uses none of them. Import these instead; type-only
 * imports (`import type { Server } from "node:http"`) cost nothing and stay as they are.
 *
 * @example
 * import { http } from "../shared/http-modules.ts";
 * const server = http.createServer(handler);
 */
export const http = process.getBuiltinModule("node:http");
export const https = process.getBuiltinModule("node:https");
