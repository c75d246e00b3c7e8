/**
 * Strategic merge patch cases with the results kubectl 1.32's own implementation gives
 * (`kubectl patch --local -f original.json -p <patch> -o json`). strategic-merge.test.ts checks the simulator
 * against the expectations; kubectl-patch-oracle.test.ts re-derives them from the real kubectl when it is
 * installed.
 *
 * @example
 * for (const c of strategicMergeCases) expect(strategicMergePatch(c.original, c.patch, c.original.kind!)).toEqual(c.expected);
 */
import type { KubeObject } from "./resources.ts";

/** One case: `expected` is what applying `patch` to `original` yields. */
export interface StrategicMergeCase {
  name: string;
  original: KubeObject;
  patch: Record<string, unknown>;
  expected: KubeObject;
}

const svc = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "x", ...metadata },
  spec,
  ...(status === undefined ? {} : { status }),
});

const http = { name: "http", port: 80, targetPort: 8080 };
const https = { name: "https", port: 443, targetPort: 8443 };
const metrics = { name: "metrics", port: 9090 };

const deployment = (podSpec: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "nginx", namespace: "x" },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "nginx" } },
    template: { metadata: { labels: { app: "nginx" } }, spec: podSpec },
    ...extra,
  },
});

const pod = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "x" },
  spec,
  ...(status === undefined ? {} : { status }),
});

/** The cases, each named after the behaviour it shows. */
export const strategicMergeCases: StrategicMergeCase[] = [
  {
    name: "kubectl apply adds a Service port in $setElementOrder order",
    original: svc({ ports: [http], selector: { app: "web" } }),
    patch: { spec: { "$setElementOrder/ports": [{ port: 80 }, { port: 443 }], ports: [https] } },
    expected: svc({ ports: [http, https], selector: { app: "web" } }),
  },
  {
    name: "kubectl apply removes a port with $patch: delete and labels with null",
    original: svc({ ports: [http, https], selector: { app: "web" } }, { labels: { a: "1" } }),
    patch: { metadata: { labels: null }, spec: { ports: [{ $patch: "delete", port: 443 }] } },
    expected: svc({ ports: [http], selector: { app: "web" } }),
  },
  {
    name: "a port added without an order directive goes first, the others keep their order",
    original: svc({ ports: [http, metrics] }),
    patch: { spec: { ports: [https] } },
    expected: svc({ ports: [https, http, metrics] }),
  },
  {
    name: "a patched port merges into the existing one and keeps its place",
    original: svc({ ports: [http, metrics] }),
    patch: { spec: { ports: [{ port: 9090, targetPort: 9091 }] } },
    expected: svc({ ports: [http, { name: "metrics", port: 9090, targetPort: 9091 }] }),
  },
  {
    name: "$setElementOrder reorders existing ports even with no port changed",
    original: svc({ ports: [http, https, metrics] }),
    patch: { spec: { "$setElementOrder/ports": [{ port: 9090 }, { port: 80 }, { port: 443 }] } },
    expected: svc({ ports: [metrics, http, https] }),
  },
  {
    name: "finalizers merge as a set, new ones first",
    original: svc({}, { finalizers: ["a", "b"] }),
    patch: { metadata: { finalizers: ["c", "a"] } },
    expected: svc({}, { finalizers: ["c", "a", "b"] }),
  },
  {
    name: "$deleteFromPrimitiveList removes finalizers",
    original: svc({}, { finalizers: ["a", "b", "c"] }),
    patch: { metadata: { "$deleteFromPrimitiveList/finalizers": ["b"] } },
    expected: svc({}, { finalizers: ["a", "c"] }),
  },
  {
    name: "ownerReferences merge by uid",
    original: svc({}, { ownerReferences: [{ apiVersion: "v1", kind: "A", name: "a", uid: "1" }] }),
    patch: { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "B", name: "b", uid: "2" }] } },
    expected: svc({}, {
      ownerReferences: [
        { apiVersion: "v1", kind: "B", name: "b", uid: "2" },
        { apiVersion: "v1", kind: "A", name: "a", uid: "1" },
      ],
    }),
  },
  {
    name: "status.loadBalancer.ingress is replaced, not merged",
    original: svc({ type: "LoadBalancer" }, {}, { loadBalancer: { ingress: [{ ip: "192.0.2.1" }, { ip: "192.0.2.2" }] } }),
    patch: { status: { loadBalancer: { ingress: [{ ip: "192.0.2.3" }] } } },
    expected: svc({ type: "LoadBalancer" }, {}, { loadBalancer: { ingress: [{ ip: "192.0.2.3" }] } }),
  },
  {
    name: "Service status conditions merge by type",
    original: svc({}, {}, { conditions: [{ type: "A", status: "True" }, { type: "B", status: "False" }] }),
    patch: { status: { conditions: [{ type: "B", status: "True" }] } },
    expected: svc({}, {}, { conditions: [{ type: "A", status: "True" }, { type: "B", status: "True" }] }),
  },
  {
    name: "$patch: replace on a map replaces the selector whole",
    original: svc({ selector: { app: "web", tier: "front" } }),
    patch: { spec: { selector: { app: "api", $patch: "replace" } } },
    expected: svc({ selector: { app: "api" } }),
  },
  {
    name: "$patch: delete on a map empties it",
    original: svc({ selector: { app: "web" }, type: "ClusterIP" }),
    patch: { spec: { selector: { $patch: "delete" } } },
    expected: svc({ selector: {}, type: "ClusterIP" }),
  },
  {
    name: "$patch: replace inside a list makes the patch items the whole list",
    original: svc({ ports: [http, https] }),
    patch: { spec: { ports: [metrics, { $patch: "replace" }] } },
    expected: svc({ ports: [metrics] }),
  },
  {
    name: "kubectl apply changes a container image with $setElementOrder/containers",
    original: deployment({ containers: [{ name: "nginx", image: "nginx:1.25", ports: [{ containerPort: 80 }] }] }),
    patch: {
      spec: { template: { spec: { "$setElementOrder/containers": [{ name: "nginx" }], containers: [{ name: "nginx", image: "nginx:1.27" }] } } },
    },
    expected: deployment({ containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] }),
  },
  {
    name: "containers, env and container ports merge by their keys",
    original: deployment({
      containers: [
        { name: "a", image: "a", env: [{ name: "X", value: "1" }, { name: "Y", value: "2" }], ports: [{ containerPort: 80, name: "http" }] },
        { name: "b", image: "b" },
      ],
    }),
    patch: {
      spec: { template: { spec: { containers: [{ name: "a", env: [{ name: "Y", value: "3" }], ports: [{ containerPort: 80, protocol: "TCP" }] }] } } },
    },
    expected: deployment({
      containers: [
        {
          name: "a",
          image: "a",
          env: [{ name: "X", value: "1" }, { name: "Y", value: "3" }],
          ports: [{ containerPort: 80, name: "http", protocol: "TCP" }],
        },
        { name: "b", image: "b" },
      ],
    }),
  },
  {
    name: "tolerations have no merge key and are replaced",
    original: deployment({ containers: [{ name: "a", image: "a" }], tolerations: [{ key: "k1", operator: "Exists" }] }),
    patch: { spec: { template: { spec: { tolerations: [{ key: "k2", operator: "Exists" }] } } } },
    expected: deployment({ containers: [{ name: "a", image: "a" }], tolerations: [{ key: "k2", operator: "Exists" }] }),
  },
  {
    name: "$retainKeys drops the strategy fields the patch does not keep",
    original: deployment({ containers: [{ name: "a", image: "a" }] }, {
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    }),
    patch: { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } },
    expected: deployment({ containers: [{ name: "a", image: "a" }] }, { strategy: { type: "Recreate" } }),
  },
  {
    name: "volumes merge by name and null removes a field of one volume",
    original: deployment({
      containers: [{ name: "a", image: "a", volumeMounts: [{ name: "v1", mountPath: "/a" }] }],
      volumes: [{ name: "v1", emptyDir: {} }, { name: "v2", configMap: { name: "c", defaultMode: 420 } }],
    }),
    patch: {
      spec: {
        template: {
          spec: {
            volumes: [{ name: "v2", configMap: { defaultMode: null } }],
            containers: [{ name: "a", volumeMounts: [{ name: "v2", mountPath: "/b" }] }],
          },
        },
      },
    },
    expected: deployment({
      containers: [{ name: "a", image: "a", volumeMounts: [{ name: "v2", mountPath: "/b" }, { name: "v1", mountPath: "/a" }] }],
      volumes: [{ name: "v1", emptyDir: {} }, { name: "v2", configMap: { name: "c" } }],
    }),
  },
  {
    name: "Pod conditions merge by type and podIPs by ip",
    original: pod({ containers: [{ name: "a", image: "a" }] }, {
      conditions: [{ type: "Ready", status: "False" }, { type: "PodScheduled", status: "True" }],
      podIPs: [{ ip: "10.0.0.1" }],
    }),
    patch: { status: { conditions: [{ type: "Ready", status: "True" }], podIPs: [{ ip: "fd00::1" }] } },
    expected: pod({ containers: [{ name: "a", image: "a" }] }, {
      conditions: [{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }],
      podIPs: [{ ip: "fd00::1" }, { ip: "10.0.0.1" }],
    }),
  },
  {
    name: "a list the patch brings in where none existed is taken with its directives applied",
    original: svc({ selector: { app: "web" } }),
    patch: { spec: { ports: [http, { $patch: "delete", port: 443 }] } },
    expected: svc({ selector: { app: "web" }, ports: [http] }),
  },
];
