import { describe, expect, it } from "vitest";
import { apiPath, withQuery } from "./api-path.ts";
import type { ObjectRef } from "./kube-api.ts";
import { endpointSlices, ipAddressPools, leases, nodes, services } from "./resource-types.ts";

describe("apiPath", () => {
  const cases: [string, ObjectRef, string][] = [
    ["core list across namespaces", services, "/api/v1/services"],
    ["core list in a namespace", { ...services, namespace: "default" }, "/api/v1/namespaces/default/services"],
    ["core named object", { ...services, namespace: "default", name: "web" }, "/api/v1/namespaces/default/services/web"],
    ["core status subresource", { ...services, namespace: "default", name: "web", subresource: "status" }, "/api/v1/namespaces/default/services/web/status"],
    ["cluster-scoped core object", { ...nodes, name: "node-1" }, "/api/v1/nodes/node-1"],
    ["named group", { ...leases, namespace: "metallb-system", name: "metallb-controller" }, "/apis/coordination.k8s.io/v1/namespaces/metallb-system/leases/metallb-controller"],
    ["group list", endpointSlices, "/apis/discovery.k8s.io/v1/endpointslices"],
    ["custom resource", { ...ipAddressPools, namespace: "metallb-system" }, "/apis/metallb.io/v1beta1/namespaces/metallb-system/ipaddresspools"],
    ["empty namespace means all namespaces", { ...services, namespace: "" }, "/api/v1/services"],
    ["names are escaped", { ...services, namespace: "default", name: "a b/c" }, "/api/v1/namespaces/default/services/a%20b%2Fc"],
  ];
  for (const [name, ref, want] of cases) it(name, () => expect(apiPath(ref)).toBe(want));

  const bad: [string, ObjectRef, RegExp][] = [
    ["an apiVersion with three parts", { apiVersion: "a/b/c", plural: "x" }, /apiVersion "a\/b\/c" of x is not "v1" or "<group>\/<version>"/],
    ["an empty apiVersion", { apiVersion: "", plural: "x" }, /apiVersion ""/],
    ["a subresource without a name", { ...services, subresource: "status" }, /subresource "status" needs an object name/],
    ["a name of ..", { ...services, name: ".." }, /name "\.\." cannot be a path segment/],
    ["a plural with a slash", { apiVersion: "v1", plural: "a/b" }, /plural "a\/b"/],
  ];
  for (const [name, ref, want] of bad) it(`refuses ${name}`, () => expect(() => apiPath(ref)).toThrow(want));
});

describe("withQuery", () => {
  it("adds only defined, non-empty parameters", () => {
    expect(withQuery("/api/v1/services", { watch: 1, allowWatchBookmarks: true, labelSelector: "app=web,tier in (a,b)", fieldSelector: "", continue: undefined })).toBe(
      "/api/v1/services?watch=1&allowWatchBookmarks=true&labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29",
    );
  });
  it("leaves a path without parameters alone", () => expect(withQuery("/api/v1/nodes", {})).toBe("/api/v1/nodes"));
});
