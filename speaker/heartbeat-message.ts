/** One fast-path heartbeat between speakers. */
export interface Heartbeat {
  /** Sender's node name. */
  node: string;
  /** Sender's Lease holder identity (changes on every speaker start). */
  identity: string;
  seq: number;
  /** True in the last heartbeats a speaker sends during a graceful shutdown. */
  leaving: boolean;
}

const version = 1;
const maxBytes = 512;

/**
 * Encodes a heartbeat as a small JSON datagram.
 *
 * @example
 * socket.send(encodeHeartbeat({ node: "n1", identity: "n1-3f2a", seq: 7, leaving: false }), port, addr);
 */
export function encodeHeartbeat(hb: Heartbeat): Buffer {
  return Buffer.from(JSON.stringify({ v: version, node: hb.node, id: hb.identity, seq: hb.seq, leaving: hb.leaving }));
}

/** Decodes a datagram; a malformed one yields a reason (a metric label), never an exception. */
export function decodeHeartbeat(buf: Uint8Array): { ok: true; heartbeat: Heartbeat } | { ok: false; reason: string } {
  if (buf.length === 0 || buf.length > maxBytes) return { ok: false, reason: "bad-length" };
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(buf).toString("utf8"));
  } catch {
    return { ok: false, reason: "not-json" };
  }
  if (!raw || typeof raw !== "object") return { ok: false, reason: "not-an-object" };
  const m = raw as Record<string, unknown>;
  if (m.v !== version) return { ok: false, reason: "unsupported-version" };
  if (typeof m.node !== "string" || m.node === "" || typeof m.id !== "string" || m.id === "") {
    return { ok: false, reason: "missing-identity" };
  }
  if (typeof m.seq !== "number" || !Number.isSafeInteger(m.seq) || m.seq < 0) return { ok: false, reason: "bad-seq" };
  if (typeof m.leaving !== "boolean") return { ok: false, reason: "bad-leaving" };
  return { ok: true, heartbeat: { node: m.node, identity: m.id, seq: m.seq, leaving: m.leaving } };
}
