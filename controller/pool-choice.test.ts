import { describe, expect, it } from "vitest";
import type { LabelSelector, Pool, ServiceAllocation } from "../shared/config/config-types.ts";
import { admissionRefusal, inPreferenceOrder, priorityOf } from "./pool-choice.ts";
import type { ServiceIdentity } from "./pool-choice.ts";

function pool(name: string, allocation?: ServiceAllocation & { namespaces?: string[] }): Pool {
  const base: Pool = { name, protocol: "layer2", ranges: [], autoAssign: true, avoidBuggyIps: false };
  if (allocation === undefined) return base;
  const { namespaces, ...rest } = allocation;
  return { ...base, ...(namespaces ? { namespaces } : {}), serviceAllocation: rest };
}

const sel = (matchLabels: Record<string, string>): LabelSelector => ({ matchLabels });
const service = (spec: Partial<ServiceIdentity> = {}): ServiceIdentity => ({ namespace: "dev", namespaceLabels: {}, serviceLabels: {}, ...spec });

describe("admissionRefusal", () => {
  it.each<[string, Pool, ServiceIdentity, string | undefined]>([
    ["a pool without serviceAllocation admits everyone", pool("p"), service(), undefined],
    ["empty lists restrict nothing", pool("p", { namespaces: [], namespaceSelectors: [], serviceSelectors: [] }), service(), undefined],
    ["a listed namespace is admitted", pool("p", { namespaces: ["dev"] }), service(), undefined],
    ["a namespace matching a selector is admitted", pool("p", { namespaceSelectors: [sel({ team: "a" })] }), service({ namespaceLabels: { team: "a" } }), undefined],
    [
      "neither listed nor matching is refused",
      pool("p", { namespaces: ["x"], namespaceSelectors: [sel({ team: "a" })] }),
      service({ namespaceLabels: { team: "b" } }),
      'pool "p" is restricted to namespaces [x] or namespaces matching [team=a] and the Service is in "dev"',
    ],
    [
      "unknown namespace labels match no selector, and the message says so",
      pool("p", { namespaceSelectors: [sel({ team: "a" })] }),
      service({ namespaceLabels: undefined }),
      'pool "p" is restricted to namespaces matching [team=a] and the Service is in "dev" (the labels of namespace "dev" are not known)',
    ],
    ["unknown namespace labels still match an empty selector", pool("p", { namespaceSelectors: [{}] }), service({ namespaceLabels: undefined }), undefined],
    ["unknown namespace labels still pass the namespaces list", pool("p", { namespaces: ["dev"], namespaceSelectors: [sel({ team: "a" })] }), service({ namespaceLabels: undefined }), undefined],
    [
      "serviceSelectors must match too (AND)",
      pool("p", { namespaces: ["dev"], serviceSelectors: [sel({ app: "web" }), { matchExpressions: [{ key: "tier", operator: "In", values: ["fe", "be"] }] }] }),
      service({ serviceLabels: { app: "db", tier: "data" } }),
      "pool \"p\" serves only Services matching serviceSelectors [app=web or tier in (fe,be)] and the Service's labels are {app=db, tier=data}",
    ],
    ["any one serviceSelector is enough", pool("p", { serviceSelectors: [sel({ app: "web" }), sel({ app: "api" })] }), service({ serviceLabels: { app: "api" } }), undefined],
    [
      "the namespace is checked before the labels",
      pool("p", { namespaces: ["x"], serviceSelectors: [sel({ app: "web" })] }),
      service(),
      'pool "p" is restricted to namespaces [x] and the Service is in "dev"',
    ],
  ])("%s", (_name, p, svc, expected) => {
    expect(admissionRefusal(p, svc)?.full).toBe(expected);
  });

  it("gives a short form for lists of skipped pools", () => {
    expect(admissionRefusal(pool("p", { namespaces: ["x"] }), service())?.short).toBe('pool "p" is restricted to namespaces [x]');
    expect(admissionRefusal(pool("p", { serviceSelectors: [sel({ app: "web" })] }), service())?.short).toBe(
      'pool "p" serves only Services matching serviceSelectors [app=web]',
    );
  });
});

describe("inPreferenceOrder", () => {
  it.each<[string, Pool[], string[]]>([
    ["keeps config order without serviceAllocation", [pool("b"), pool("a"), pool("c")], ["b", "a", "c"]],
    ["sorts priorities ascending", [pool("p30", { priority: 30 }), pool("p10", { priority: 10 }), pool("p20", { priority: 20 })], ["p10", "p20", "p30"]],
    ["puts unprioritised pools last", [pool("none"), pool("p5", { priority: 5 })], ["p5", "none"]],
    ["reads priority 0 as unset", [pool("zero", { priority: 0 }), pool("p5", { priority: 5 })], ["p5", "zero"]],
    ["sorts a negative priority first", [pool("p1", { priority: 1 }), pool("neg", { priority: -1 })], ["neg", "p1"]],
    ["breaks ties by config order", [pool("y", { priority: 7 }), pool("x", { priority: 7 }), pool("z", { priority: 7 })], ["y", "x", "z"]],
    [
      "puts pools with a serviceAllocation but no priority before pools without one",
      [pool("plain"), pool("tenant", { namespaces: ["a"] }), pool("gold", { priority: 1 }), pool("plain2"), pool("tenant2", {})],
      ["gold", "tenant", "tenant2", "plain", "plain2"],
    ],
  ])("%s", (_name, pools, expected) => {
    expect(inPreferenceOrder(pools, (p) => p).map((p) => p.name)).toEqual(expected);
  });

  it("reports the effective priority", () => {
    expect([pool("a"), pool("b", {}), pool("c", { priority: 0 }), pool("d", { priority: 4 })].map(priorityOf)).toEqual([undefined, undefined, undefined, 4]);
  });
});
