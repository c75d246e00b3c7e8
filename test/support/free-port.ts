import { createSocket } from "node:dgram";

/** A UDP port that was free a moment ago, on both families (for sockets a test binds next). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket({ type: "udp6", ipv6Only: false });
  await new Promise<void>((r) => s.bind(0, "::", () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
