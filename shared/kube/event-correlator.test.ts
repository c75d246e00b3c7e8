import { describe, expect, it } from "vitest";
import { EventCorrelator, type EventRequest, type EventTarget, type EventType } from "./event-correlator.ts";

const web: EventTarget = { kind: "Service", apiVersion: "v1", name: "web", namespace: "default", uid: "u-web" };
const db: EventTarget = { kind: "Service", apiVersion: "v1", name: "db", namespace: "default", uid: "u-db" };
const node: EventTarget = { kind: "Node", apiVersion: "v1", name: "node-1", uid: "u-node" };

const minute = 60_000;

function req(target: EventTarget, reason: string, message: string, type: EventType = "Normal"): EventRequest {
  return { target, type, reason, message };
}

/** What the writer would do for each request: "create NAME", "patch NAME", or "spam". */
interface Step {
  at: number;
  request: EventRequest;
}

/** Runs the steps through one correlator; each outcome names the Event by the step that created it. */
function run(steps: Step[], correlator = new EventCorrelator()): string[] {
  const names = new Map<string, string>();
  return steps.map(({ at, request }, i) => {
    const { event, spam } = correlator.correlate(request, at);
    if (!names.has(event.name)) names.set(event.name, `#${i}`);
    const outcome = spam ? "spam" : `${event.onServer ? "patch" : "create"} ${names.get(event.name)} count=${event.count} "${event.message}"`;
    if (!spam) event.onServer = true; // as the writer marks it once created
    return outcome;
  });
}

describe("EventCorrelator", () => {
  it.each<{ name: string; steps: Step[]; want: string[] }>([
    {
      name: "an identical event bumps the count of the first",
      steps: [
        { at: 0, request: req(web, "IPAllocated", "Assigned IP 10.0.0.1") },
        { at: 1000, request: req(web, "IPAllocated", "Assigned IP 10.0.0.1") },
        { at: 2000, request: req(web, "IPAllocated", "Assigned IP 10.0.0.1") },
      ],
      want: ['create #0 count=1 "Assigned IP 10.0.0.1"', 'patch #0 count=2 "Assigned IP 10.0.0.1"', 'patch #0 count=3 "Assigned IP 10.0.0.1"'],
    },
    {
      name: "a new uid (the Service was recreated) is another object",
      steps: [
        { at: 0, request: req(web, "IPAllocated", "m") },
        { at: 1, request: req({ ...web, uid: "u-web-2" }, "IPAllocated", "m") },
      ],
      want: ['create #0 count=1 "m"', 'create #1 count=1 "m"'],
    },
    {
      name: "type, reason and message each make a different Event",
      steps: [
        { at: 0, request: req(web, "IPAllocated", "m") },
        { at: 1, request: req(web, "IPAllocated", "m", "Warning") },
        { at: 2, request: req(web, "nodeAssigned", "m") },
        { at: 3, request: req(web, "IPAllocated", "m2") },
      ],
      want: ['create #0 count=1 "m"', 'create #1 count=1 "m"', 'create #2 count=1 "m"', 'create #3 count=1 "m2"'],
    },
    {
      name: "the 10th distinct message in 10 minutes becomes a combined Event, further ones count it up",
      steps: Array.from({ length: 12 }, (_, i) => ({ at: i * minute, request: req(web, "AllocationFailed", `no IP left (try ${i})`, "Warning") })),
      want: [
        ...Array.from({ length: 9 }, (_, i) => `create #${i} count=1 "no IP left (try ${i})"`),
        'create #9 count=1 "(combined from similar events): no IP left (try 9)"',
        'patch #9 count=2 "(combined from similar events): no IP left (try 10)"',
        'patch #9 count=3 "(combined from similar events): no IP left (try 11)"',
      ],
    },
    {
      name: "similar events more than 10 minutes apart never combine",
      steps: Array.from({ length: 11 }, (_, i) => ({ at: i * 11 * minute, request: req(web, "AllocationFailed", `try ${i}`, "Warning") })),
      want: Array.from({ length: 11 }, (_, i) => `create #${i} count=1 "try ${i}"`),
    },
    {
      name: "a message already among the last nine is a plain repeat, not combined",
      steps: [
        ...Array.from({ length: 9 }, (_, i) => ({ at: i, request: req(web, "Flap", `m${i}`) })),
        { at: 9, request: req(web, "Flap", "m4") },
      ],
      want: [...Array.from({ length: 9 }, (_, i) => `create #${i} count=1 "m${i}"`), 'patch #4 count=2 "m4"'],
    },
  ])("$name", ({ steps, want }) => {
    expect(run(steps)).toEqual(want);
  });

  it("lets one object have 25 Events at once, then one per 5 minutes, without limiting other objects", () => {
    const steps: Step[] = [
      ...Array.from({ length: 27 }, (_, i) => ({ at: 0, request: req(web, `Reason${i}`, "m") })),
      { at: 0, request: req(db, "Reason0", "m") },
      { at: 4 * minute, request: req(web, "Late", "m") },
      { at: 5 * minute, request: req(web, "Later", "m") },
      { at: 5 * minute, request: req(web, "Latest", "m") },
    ];
    const outcomes = run(steps);
    expect(outcomes.slice(0, 25).every((o) => o.startsWith("create"))).toBe(true);
    expect(outcomes.slice(25)).toEqual(["spam", "spam", 'create #27 count=1 "m"', "spam", 'create #29 count=1 "m"', "spam"]);
  });

  it("counts a spam-filtered repeat into the Event, so the next write carries it", () => {
    const correlator = new EventCorrelator({ spamBurst: 1 });
    expect(correlator.correlate(req(node, "ARPConflict", "m", "Warning"), 0).spam).toBe(false);
    expect(correlator.correlate(req(node, "ARPConflict", "m", "Warning"), 1).spam).toBe(true);
    const third = correlator.correlate(req(node, "ARPConflict", "m", "Warning"), 5 * minute);
    expect(third).toMatchObject({ spam: false, event: { count: 3, namespace: "default" } });
  });

  it("names Events after the object and keeps them in its namespace, or default for Nodes", () => {
    const correlator = new EventCorrelator();
    expect(correlator.correlate(req(web, "r", "m"), 1_700_000_000_000).event).toMatchObject({ namespace: "default", name: expect.stringMatching(/^web\.[0-9a-f]+$/) });
    expect(correlator.correlate(req({ ...db, namespace: "shop" }, "r", "m"), 0).event.namespace).toBe("shop");
    expect(correlator.correlate(req(node, "r", "m"), 0).event.namespace).toBe("default");
  });

  it("restarts a vanished Event under a new name, keeping repeats not yet sent", () => {
    const correlator = new EventCorrelator();
    const { event } = correlator.correlate(req(web, "r", "m"), 0);
    event.onServer = true;
    correlator.correlate(req(web, "r", "m"), 10);
    const oldName = event.name;
    correlator.restart(event, 20, 1);
    expect(event).toMatchObject({ onServer: false, count: 2, firstTimestamp: 20, lastTimestamp: 20 });
    expect(event.name).not.toBe(oldName);
  });

  it("remembers at most maxRemembered Events, forgetting the least recently used", () => {
    const correlator = new EventCorrelator({ maxRemembered: 2 });
    const first = correlator.correlate(req(web, "r", "a"), 0).event;
    correlator.correlate(req(web, "r", "b"), 1);
    correlator.correlate(req(web, "r", "a"), 2); // a is now the most recent
    correlator.correlate(req(web, "r", "c"), 3); // forgets b
    expect(correlator.correlate(req(web, "r", "a"), 4).event).toBe(first);
    expect(correlator.correlate(req(web, "r", "b"), 5).event.count).toBe(1);
  });
});
