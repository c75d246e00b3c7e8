/**
 * A stand-in Pod backend for end-to-end tests: an HTTP server that answers every request with
 * the node name it runs on, so a client's curl shows which node carried the traffic.
 *
 * Usage (inside a node's namespace): node tools/lab/backend.ts NODE_NAME PORT
 */
import { createServer } from "node:http";

const [nodeName, portText] = process.argv.slice(2);
if (!nodeName || !portText) {
  console.error("usage: backend.ts NODE_NAME PORT");
  process.exit(2);
}
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", connection: "close" });
  res.end(`served by ${nodeName}\n`);
});
server.listen(Number(portText), "::", () => console.log(`backend ${nodeName} listening on ${portText}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
