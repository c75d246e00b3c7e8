import { describe, expect, it } from "vitest";
import { ApiError } from "./api-error.ts";
import type { KubeObject } from "./resources.ts";
import { nameFromFieldSelector, parseFieldSelector, parseLabelSelector } from "./selectors.ts";

describe("label selectors", () => {
  const labels = { app: "web", tier: "fe", n: "5", empty: "" };
  const cases: [string, boolean][] = [
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app=api", false],
    ["app!=api", true],
    ["missing!=x", true],
    ["app in (api,web)", true],
    ["app in (api)", false],
    ["app notin (api)", true],
    ["missing notin (api)", true],
    ["app notin (web)", false],
    ["tier", true],
    ["missing", false],
    ["!missing", true],
    ["!tier", false],
    ["app=web,tier=fe", true],
    ["app=web, tier=be", false],
    [" app = web ", true],
    ["n>4", true],
    ["n<5", false],
    ["app=", false],
    ["empty=", true],
  ];
  for (const [selector, want] of cases) {
    it(`${JSON.stringify(selector)} ${want ? "matches" : "does not match"}`, () => {
      expect(parseLabelSelector(selector)(labels)).toBe(want);
    });
  }

  it("treats objects without labels as having none", () => {
    expect(parseLabelSelector("!a")(undefined)).toBe(true);
    expect(parseLabelSelector("a")(undefined)).toBe(false);
  });

  for (const bad of ["app in (", "app in ()", "=x", "app=web,", "in (a)", "a b", "bad key!=x"]) {
    it(`refuses ${JSON.stringify(bad)} with 400`, () => {
      expect(() => parseLabelSelector(bad)).toThrow(ApiError);
      try {
        parseLabelSelector(bad);
      } catch (e) {
        expect((e as ApiError).code).toBe(400);
      }
    });
  }
});

describe("field selectors", () => {
  const event: KubeObject = {
    metadata: { name: "e1", namespace: "x" },
    involvedObject: { kind: "Service", name: "web", namespace: "x", uid: "u1" },
    source: { component: "lb-controller" },
    type: "Normal",
  };

  it("matches kubectl describe's event query in any term order", () => {
    const m = parseFieldSelector("involvedObject.uid=u1,involvedObject.name=web,involvedObject.namespace=x,involvedObject.kind=Service", "", "Event");
    expect(m(event)).toBe(true);
    expect(parseFieldSelector("involvedObject.name=db", "", "Event")(event)).toBe(false);
    expect(parseFieldSelector("source=lb-controller,type!=Warning", "", "Event")(event)).toBe(true);
  });

  it("supports metadata.name, metadata.namespace and pod spec.nodeName", () => {
    const pod: KubeObject = { metadata: { name: "p", namespace: "x" }, spec: { nodeName: "n1" } };
    expect(parseFieldSelector("metadata.name=p,metadata.namespace==x", "", "Pod")(pod)).toBe(true);
    expect(parseFieldSelector("spec.nodeName=n2", "", "Pod")(pod)).toBe(false);
    expect(parseFieldSelector("spec.nodeName!=n2", "", "Pod")(pod)).toBe(true);
  });

  it("refuses fields the kind does not support with apiserver's message", () => {
    expect(() => parseFieldSelector("spec.nodeName=n1", "", "Service")).toThrow("field label not supported: spec.nodeName");
  });

  it("finds the pinned name", () => {
    expect(nameFromFieldSelector("metadata.name=web")).toBe("web");
    expect(nameFromFieldSelector("metadata.namespace=x,metadata.name==web")).toBe("web");
    expect(nameFromFieldSelector("metadata.name!=web")).toBeUndefined();
  });
});
