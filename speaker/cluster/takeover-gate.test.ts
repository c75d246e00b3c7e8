import { describe, expect, it } from "vitest";
import type { MembershipView } from "./membership-view.ts";
import { emptyGate, gateTakeovers, type GateState } from "./takeover-gate.ts";

const IP = "192.0.2.1";

/** A view of node-1 in a three-node cluster where everyone hears everyone; override what a case needs. */
function view(overrides: Partial<MembershipView> = {}): MembershipView {
  return {
    members: ["node-1", "node-2", "node-3"],
    connected: ["node-1", "node-2", "node-3"],
    live: new Set(["node-1", "node-2", "node-3"]),
    acks: new Map([
      ["node-2", 10],
      ["node-3", 10],
    ]),
    countUsLive: new Set(["node-2", "node-3"]),
    direct: new Set(["node-2", "node-3"]),
    relayedOnly: new Set(),
    quorum: true,
    quorumReason: "hearing 3 of 3 speakers",
    quorumUntil: Infinity,
    silentMembers: [],
    recent: new Set(["node-1", "node-2", "node-3"]),
    recentQuorum: true,
    settled: new Set([]),
    settledQuorum: false,
    apiReachable: true,
    apiUnreachableForMs: 0,
    nextChangeAt: undefined,
    ...overrides,
  };
}

/** The gate's memory after a decision in which `owner` owned IP and we had `quorum`. */
function after(owner: string, quorum = true, extra: Partial<GateState> = {}): GateState {
  return { announced: new Set(), pending: new Map(), previous: { quorum, owners: new Map([[IP, owner]]) }, ...extra };
}

const mine = new Map([[IP, "node-1"]]);
const decide = (state: GateState, v: MembershipView, nextSeq = 11) =>
  gateTakeovers(state, { desired: new Set([IP]), owners: mine, view: v, self: "node-1", nowMs: 1000, nextSeq });

describe("takeover gate", () => {
  const cases: { name: string; state: GateState; view: MembershipView; announce: boolean }[] = [
    {
      name: "a crash's IPs are taken over at once",
      state: after("node-3"),
      view: view({ live: new Set(["node-1", "node-2"]), direct: new Set(["node-2"]), acks: new Map([["node-2", 10]]), recent: new Set(["node-1", "node-2"]) }),
      announce: true,
    },
    {
      name: "a node that just became a candidate takes no crash's IPs before its peers count it live",
      state: after("node-3"),
      view: view({ live: new Set(["node-1", "node-2"]), direct: new Set(["node-2"]), acks: new Map([["node-2", 10]]), countUsLive: new Set(), recent: new Set(["node-1", "node-2"]) }),
      announce: false,
    },
    {
      name: "a crash's IPs wait while the others were not heard within the last interval",
      state: after("node-3"),
      view: view({ live: new Set(["node-1", "node-2"]), direct: new Set(["node-2"]), recent: new Set(["node-1"]), recentQuorum: false }),
      announce: false,
    },
    {
      name: "a joining node waits until its peers relayed its heartbeat",
      state: emptyGate,
      view: view(),
      announce: false,
    },
    {
      name: "a joining node announces once every peer relayed a heartbeat sent after the gain",
      state: emptyGate,
      view: view({ acks: new Map([["node-2", 11], ["node-3", 11]]) }),
      announce: true,
    },
    {
      name: "one peer that has not relayed the heartbeat holds the gain back",
      state: emptyGate,
      view: view({ acks: new Map([["node-2", 11], ["node-3", 10]]) }),
      announce: false,
    },
    {
      name: "a gain waits for a peer known only by relay, even when the others acknowledged",
      state: emptyGate,
      view: view({ direct: new Set(["node-2"]), relayedOnly: new Set(["node-3"]), acks: new Map([["node-2", 11]]), countUsLive: new Set(["node-2"]) }),
      announce: false,
    },
    {
      name: "a gain with a peer known only by relay goes ahead on a settled quorum",
      state: emptyGate,
      view: view({ direct: new Set(["node-2"]), relayedOnly: new Set(["node-3"]), countUsLive: new Set(["node-2"]), settled: new Set(["node-2", "node-3"]), settledQuorum: true }),
      announce: true,
    },
    {
      name: "regaining quorum is not a crash: the IPs wait for acknowledgements",
      state: after("node-3", false),
      view: view({ live: new Set(["node-1", "node-2"]), direct: new Set(["node-2"]), acks: new Map([["node-2", 10]]) }),
      announce: false,
    },
    {
      name: "a previous owner that is still live lets go only once it has heard us",
      state: after("node-2"),
      view: view(),
      announce: false,
    },
    {
      name: "even acknowledged gains wait for a recent quorum",
      state: emptyGate,
      view: view({ acks: new Map([["node-2", 11], ["node-3", 11]]), recent: new Set(["node-1"]), recentQuorum: false }),
      announce: false,
    },
    {
      name: "an IP already announced stays announced",
      state: after("node-1", true, { announced: new Set([IP]) }),
      view: view({ recentQuorum: false }),
      announce: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decide(c.state, c.view).announce.has(IP)).toBe(c.announce);
    });
  }

  it("keeps a held crash takeover quick: it needs no acknowledgements once the quorum is recent", () => {
    const dead = { live: new Set(["node-1", "node-2"]), direct: new Set(["node-2"]), acks: new Map([["node-2", 10]]) };
    const first = decide(after("node-3"), view({ ...dead, recent: new Set(["node-1"]), recentQuorum: false }));
    expect(first.announce.has(IP)).toBe(false);
    expect(decide(first.state, view({ ...dead, recent: new Set(["node-1", "node-2"]) })).announce.has(IP)).toBe(true);
  });

  it("waits for a heartbeat sent after the gain, not for one sent before", () => {
    const first = decide(emptyGate, view(), 11);
    // Later decisions carry a higher next seq; the gain still waits for seq 11 only.
    expect(decide(first.state, view({ acks: new Map([["node-2", 11], ["node-3", 11]]) }), 14).announce.has(IP)).toBe(true);
  });

  it("lets an IP go at once when the election moves it away", () => {
    const res = gateTakeovers(after("node-1", true, { announced: new Set([IP]) }), {
      desired: new Set(),
      owners: new Map([[IP, "node-2"]]),
      view: view(),
      self: "node-1",
      nowMs: 1000,
      nextSeq: 11,
    });
    expect(res.announce.size).toBe(0);
    expect(res.state.pending.size).toBe(0);
  });
});
