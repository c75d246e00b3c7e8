/**
 * Field numbers of the k8s.io/api protobuf messages that `kubectl create <kind> ...` sends, copied from the
 * generated.proto descriptors compiled into kubectl 1.32 (k8s.io/api core/v1, apps/v1, rbac/v1, policy/v1 and
 * k8s.io/apimachinery meta/v1, intstr, resource).
 *
 * One string per message, one field per word: `jsonName=number[:type][[]][*][^]`
 * - type: `string` (default), `int32`, `int64`, `bool`, `bytes`, a message name, or `map` / `map<T>` (string keys,
 *   string or T values). `Time`, `IntOrString` and `Quantity` are decoded to their JSON forms.
 * - `[]` repeated, `*` a Go pointer (kept even when it holds a zero value), `^` an embedded struct whose fields
 *   sit inline in the parent JSON object.
 *
 * @example
 * protobufMessages.ServicePort; // "name=1 protocol=2 appProtocol=6* port=3:int32 targetPort=4:IntOrString nodePort=5:int32"
 * protobufKinds["v1/Service"]; // "Service"
 */
export const protobufMessages: Readonly<Record<string, string>> = {
  // k8s.io/apimachinery/pkg/apis/meta/v1
  ObjectMeta:
    "name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:int64 creationTimestamp=8:Time " +
    "deletionTimestamp=9:Time* deletionGracePeriodSeconds=10:int64* labels=11:map annotations=12:map " +
    "ownerReferences=13:OwnerReference[] finalizers=14[]",
  OwnerReference: "apiVersion=5 kind=1 name=3 uid=4 controller=6:bool* blockOwnerDeletion=7:bool*",
  LabelSelector: "matchLabels=1:map matchExpressions=2:LabelSelectorRequirement[]",
  LabelSelectorRequirement: "key=1 operator=2 values=3[]",
  Condition: "type=1 status=2 observedGeneration=3:int64 lastTransitionTime=4:Time reason=5 message=6",

  // k8s.io/api/core/v1
  Service: "metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus",
  ServiceSpec:
    "ports=1:ServicePort[] selector=2:map clusterIP=3 clusterIPs=18[] type=4 externalIPs=5[] sessionAffinity=7 " +
    "loadBalancerIP=8 loadBalancerSourceRanges=9[] externalName=10 externalTrafficPolicy=11 healthCheckNodePort=12:int32 " +
    "publishNotReadyAddresses=13:bool sessionAffinityConfig=14:SessionAffinityConfig* ipFamilies=19[] ipFamilyPolicy=17* " +
    "allocateLoadBalancerNodePorts=20:bool* loadBalancerClass=21* internalTrafficPolicy=22* trafficDistribution=23*",
  SessionAffinityConfig: "clientIP=1:ClientIPConfig*",
  ClientIPConfig: "timeoutSeconds=1:int32*",
  ServicePort: "name=1 protocol=2 appProtocol=6* port=3:int32 targetPort=4:IntOrString nodePort=5:int32",
  ServiceStatus: "loadBalancer=1:LoadBalancerStatus conditions=2:Condition[]",
  LoadBalancerStatus: "ingress=1:LoadBalancerIngress[]",
  LoadBalancerIngress: "ip=1 hostname=2 ipMode=3* ports=4:PortStatus[]",
  PortStatus: "port=1:int32 protocol=2 error=3*",
  Namespace: "metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus",
  NamespaceSpec: "finalizers=1[]",
  NamespaceStatus: "phase=1 conditions=2:NamespaceCondition[]",
  NamespaceCondition: "type=1 status=2 lastTransitionTime=4:Time reason=5 message=6",
  ConfigMap: "metadata=1:ObjectMeta immutable=4:bool* data=2:map binaryData=3:map<bytes>",
  Secret: "metadata=1:ObjectMeta immutable=5:bool* data=2:map<bytes> stringData=4:map type=3",
  ServiceAccount:
    "metadata=1:ObjectMeta secrets=2:ObjectReference[] imagePullSecrets=3:LocalObjectReference[] automountServiceAccountToken=4:bool*",
  ObjectReference: "kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 fieldPath=7",
  LocalObjectReference: "name=1",
  PodTemplateSpec: "metadata=1:ObjectMeta spec=2:PodSpec",
  PodSpec:
    "volumes=1:Volume[] initContainers=20:Container[] containers=2:Container[] restartPolicy=3 " +
    "terminationGracePeriodSeconds=4:int64* activeDeadlineSeconds=5:int64* dnsPolicy=6 nodeSelector=7:map " +
    "serviceAccountName=8 serviceAccount=9 automountServiceAccountToken=21:bool* nodeName=10 hostNetwork=11:bool " +
    "hostPID=12:bool hostIPC=13:bool shareProcessNamespace=27:bool* imagePullSecrets=15:LocalObjectReference[] " +
    "hostname=16 subdomain=17 schedulerName=19 tolerations=22:Toleration[] hostAliases=23:HostAlias[] " +
    "priorityClassName=24 priority=25:int32* runtimeClassName=29* enableServiceLinks=30:bool* preemptionPolicy=31* " +
    "setHostnameAsFQDN=35:bool* hostUsers=37:bool*",
  Container:
    "name=1 image=2 command=3[] args=4[] workingDir=5 ports=6:ContainerPort[] envFrom=19:EnvFromSource[] env=7:EnvVar[] " +
    "resources=8:ResourceRequirements restartPolicy=24* volumeMounts=9:VolumeMount[] terminationMessagePath=13 " +
    "terminationMessagePolicy=20 imagePullPolicy=14 stdin=16:bool stdinOnce=17:bool tty=18:bool",
  ContainerPort: "name=1 hostPort=2:int32 containerPort=3:int32 protocol=4 hostIP=5",
  EnvVar: "name=1 value=2 valueFrom=3:EnvVarSource*",
  EnvVarSource:
    "fieldRef=1:ObjectFieldSelector* resourceFieldRef=2:ResourceFieldSelector* configMapKeyRef=3:ConfigMapKeySelector* " +
    "secretKeyRef=4:SecretKeySelector*",
  ObjectFieldSelector: "apiVersion=1 fieldPath=2",
  ResourceFieldSelector: "containerName=1 resource=2 divisor=3:Quantity",
  ConfigMapKeySelector: "localObjectReference=1:LocalObjectReference^ key=2 optional=3:bool*",
  SecretKeySelector: "localObjectReference=1:LocalObjectReference^ key=2 optional=3:bool*",
  EnvFromSource: "prefix=1 configMapRef=2:ConfigMapEnvSource* secretRef=3:SecretEnvSource*",
  ConfigMapEnvSource: "localObjectReference=1:LocalObjectReference^ optional=2:bool*",
  SecretEnvSource: "localObjectReference=1:LocalObjectReference^ optional=2:bool*",
  ResourceRequirements: "limits=1:map<Quantity> requests=2:map<Quantity> claims=3:ResourceClaim[]",
  ResourceClaim: "name=1 request=2",
  VolumeMount: "name=1 readOnly=2:bool recursiveReadOnly=7* mountPath=3 subPath=4 mountPropagation=5* subPathExpr=6",
  Toleration: "key=1 operator=2 value=3 effect=4 tolerationSeconds=5:int64*",
  HostAlias: "ip=1 hostnames=2[]",
  Volume: "name=1 volumeSource=2:VolumeSource^",
  VolumeSource:
    "hostPath=1:HostPathVolumeSource* emptyDir=2:EmptyDirVolumeSource* secret=6:SecretVolumeSource* " +
    "configMap=19:ConfigMapVolumeSource*",
  HostPathVolumeSource: "path=1 type=2*",
  EmptyDirVolumeSource: "medium=1 sizeLimit=2:Quantity*",
  SecretVolumeSource: "secretName=1 items=2:KeyToPath[] defaultMode=3:int32* optional=4:bool*",
  ConfigMapVolumeSource: "localObjectReference=1:LocalObjectReference^ items=2:KeyToPath[] defaultMode=3:int32* optional=4:bool*",
  KeyToPath: "key=1 path=2 mode=3:int32*",

  // k8s.io/api/apps/v1
  Deployment: "metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus",
  DeploymentSpec:
    "replicas=1:int32* selector=2:LabelSelector* template=3:PodTemplateSpec strategy=4:DeploymentStrategy " +
    "minReadySeconds=5:int32 revisionHistoryLimit=6:int32* paused=7:bool progressDeadlineSeconds=9:int32*",
  DeploymentStrategy: "type=1 rollingUpdate=2:RollingUpdateDeployment*",
  RollingUpdateDeployment: "maxUnavailable=1:IntOrString* maxSurge=2:IntOrString*",
  DeploymentStatus:
    "observedGeneration=1:int64 replicas=2:int32 updatedReplicas=3:int32 readyReplicas=7:int32 availableReplicas=4:int32 " +
    "unavailableReplicas=5:int32 conditions=6:DeploymentCondition[] collisionCount=8:int32*",
  DeploymentCondition: "type=1 status=2 lastUpdateTime=6:Time lastTransitionTime=7:Time reason=4 message=5",

  // k8s.io/api/rbac/v1
  Role: "metadata=1:ObjectMeta rules=2:PolicyRule[]",
  ClusterRole: "metadata=1:ObjectMeta rules=2:PolicyRule[] aggregationRule=3:AggregationRule*",
  AggregationRule: "clusterRoleSelectors=1:LabelSelector[]",
  PolicyRule: "verbs=1[] apiGroups=2[] resources=3[] resourceNames=4[] nonResourceURLs=5[]",
  RoleBinding: "metadata=1:ObjectMeta subjects=2:Subject[] roleRef=3:RoleRef",
  ClusterRoleBinding: "metadata=1:ObjectMeta subjects=2:Subject[] roleRef=3:RoleRef",
  RoleRef: "apiGroup=1 kind=2 name=3",
  Subject: "kind=1 apiGroup=2 name=3 namespace=4",

  // k8s.io/api/policy/v1
  PodDisruptionBudget: "metadata=1:ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:PodDisruptionBudgetStatus",
  PodDisruptionBudgetSpec:
    "minAvailable=1:IntOrString* selector=2:LabelSelector* maxUnavailable=3:IntOrString* unhealthyPodEvictionPolicy=4*",
  PodDisruptionBudgetStatus:
    "observedGeneration=1:int64 disruptedPods=2:map<Time> disruptionsAllowed=3:int32 currentHealthy=4:int32 " +
    "desiredHealthy=5:int32 expectedPods=6:int32 conditions=7:Condition[]",
};

/** Top-level objects by "<apiVersion>/<kind>", naming their message in {@link protobufMessages}. */
export const protobufKinds: Readonly<Record<string, string>> = {
  "v1/Service": "Service",
  "v1/Namespace": "Namespace",
  "v1/ConfigMap": "ConfigMap",
  "v1/Secret": "Secret",
  "v1/ServiceAccount": "ServiceAccount",
  "apps/v1/Deployment": "Deployment",
  "rbac.authorization.k8s.io/v1/Role": "Role",
  "rbac.authorization.k8s.io/v1/ClusterRole": "ClusterRole",
  "rbac.authorization.k8s.io/v1/RoleBinding": "RoleBinding",
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "ClusterRoleBinding",
  "policy/v1/PodDisruptionBudget": "PodDisruptionBudget",
};
