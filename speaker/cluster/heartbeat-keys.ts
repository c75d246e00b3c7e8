/**
 * The heartbeat key ring: which keys a speaker accepts and which one it signs with, from the data of the
 * Secret `memberlist` (MetalLB's names) over time. Pure: the caller passes the Secret's data and a monotonic
 * clock.
 *
 * - Every data value of the Secret is an accepted key, at once. The value of `secretkey` is the signing key.
 * - A new signing key is used for signing only after it has been held for the adoption delay (default 10 s):
 *   peers may see the Secret change a few seconds after us, and until then they only know the old key. A key
 *   that was already held under another name (a two-step rotation) is adopted at once. With no earlier signing
 *   key (a start), the key signs at once.
 * - A key that disappears from the Secret is still accepted for a grace period (default 60 s), so a peer that
 *   still signs with it is heard. So even a one-step `kubectl edit` of `secretkey` never silences a node.
 * - A refused update (a key under 16 bytes, no `secretkey`, the Secret deleted) changes nothing: the previous
 *   keys stay in force and the problems say what to fix.
 */
import { memberlistSecretKey as signingKeyName, minMemberlistKeyBytes as minHeartbeatKeyBytes } from "../../shared/kube/memberlist-secret.ts";
import { heartbeatKeyOf, type HeartbeatKey, type HeartbeatKeys } from "./heartbeat-message.ts";

export interface KeyRingOptions {
  /** How long a new signing key is held before it signs; default 10 s. */
  adoptionDelayMs?: number;
  /** How long a key removed from the Secret is still accepted; default 60 s. */
  graceMs?: number;
}

/** What an update did: the key ids (hex) it added and removed, or why it was refused. */
export type KeyRingUpdate = { ok: true; added: string[]; removed: string[]; signing: string } | { ok: false; problems: string[] };

interface HeldKey {
  key: HeartbeatKey;
  heldSince: number;
  /** When it left the Secret; undefined while it is in it. */
  removedAt: number | undefined;
}

/**
 * @example
 * const ring = new HeartbeatKeyRing();
 * ring.update({ secretkey: Buffer.from(secret.data.secretkey, "base64") }, performance.now());
 * const keys = ring.keys(performance.now()); // undefined until a valid Secret was seen
 */
export class HeartbeatKeyRing {
  readonly adoptionDelayMs: number;
  readonly graceMs: number;
  readonly #held = new Map<string, HeldKey>();
  /** The id of the value of `secretkey` in the last accepted update. */
  #wanted: string | undefined;
  /** The id we sign with now. */
  #signing: string | undefined;
  #cache: { keys: HeartbeatKeys; until: number } | undefined;

  constructor(opts: KeyRingOptions = {}) {
    this.adoptionDelayMs = opts.adoptionDelayMs ?? 10_000;
    this.graceMs = opts.graceMs ?? 60_000;
    if (!(this.graceMs > this.adoptionDelayMs)) {
      throw new Error(`heartbeat key grace (${this.graceMs} ms) must be longer than the adoption delay (${this.adoptionDelayMs} ms), or a rotation silences nodes`);
    }
  }

  /**
   * Takes the Secret's current data (values already base64-decoded), or undefined when the Secret is gone.
   * A refused update leaves the ring as it was.
   */
  update(data: Readonly<Record<string, Uint8Array>> | undefined, now: number): KeyRingUpdate {
    const problems = validate(data);
    if (problems.length > 0 || !data) return { ok: false, problems };
    const present = new Map<string, HeartbeatKey>();
    for (const value of Object.values(data)) {
      const key = heartbeatKeyOf(value);
      present.set(key.idHex, key);
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const [id, key] of present) {
      const held = this.#held.get(id);
      if (held) held.removedAt = undefined;
      else {
        this.#held.set(id, { key, heldSince: now, removedAt: undefined });
        added.push(id);
      }
    }
    for (const [id, held] of this.#held) {
      if (!present.has(id) && held.removedAt === undefined) {
        held.removedAt = now;
        removed.push(id);
      }
    }
    this.#wanted = heartbeatKeyOf(data[signingKeyName]).idHex;
    this.#cache = undefined;
    return { ok: true, added, removed, signing: this.#wanted };
  }

  /** The keys in force at `now`, or undefined before the first valid update. */
  keys(now: number): HeartbeatKeys | undefined {
    if (this.#cache && now < this.#cache.until) return this.#cache.keys;
    for (const [id, held] of this.#held) {
      if (held.removedAt !== undefined && now - held.removedAt >= this.graceMs) this.#held.delete(id);
    }
    const wanted = this.#wanted === undefined ? undefined : this.#held.get(this.#wanted);
    if (!wanted) return undefined;
    const adopted = now - wanted.heldSince >= this.adoptionDelayMs;
    if (this.#signing !== this.#wanted && (adopted || this.#signing === undefined || !this.#held.has(this.#signing))) {
      this.#signing = this.#wanted;
    }
    const signing = this.#held.get(this.#signing!)!.key;
    const accepted = new Map([...this.#held].map(([id, held]) => [id, held.key]));
    this.#cache = { keys: { signing, accepted }, until: this.#nextChange(wanted) };
    return this.#cache.keys;
  }

  /** The next time `keys()` may change without an update: an adoption or the end of a grace. */
  #nextChange(wanted: HeldKey): number {
    let until = Infinity;
    if (this.#signing !== this.#wanted) until = wanted.heldSince + this.adoptionDelayMs;
    for (const held of this.#held.values()) {
      if (held.removedAt !== undefined) until = Math.min(until, held.removedAt + this.graceMs);
    }
    return until;
  }
}

function validate(data: Readonly<Record<string, Uint8Array>> | undefined): string[] {
  if (!data) return ["the Secret does not exist"];
  const problems: string[] = [];
  if (!(signingKeyName in data)) {
    problems.push(`it has no data key "${signingKeyName}" (the key that signs heartbeats)`);
  }
  for (const [name, value] of Object.entries(data)) {
    if (value.length < minHeartbeatKeyBytes) {
      problems.push(`data key "${name}" is ${value.length} bytes; heartbeat keys must be at least ${minHeartbeatKeyBytes} bytes (make one with: head -c 64 /dev/urandom | base64 -w0)`);
    }
  }
  return problems;
}
