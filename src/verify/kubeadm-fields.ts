// kubeadm's configuration API as field tables: the json name and Go type of every field of every
// struct kubebake writes into, per API version. kubeadm decodes its configuration strictly (an
// unknown field or a wrong type is an error), so the render-time verify checks the kubeadm config
// against these, and the sandbox's kubeadm stand-in (test/helpers/kubeadm_standin.py) decodes
// with the same tables.
// Sources:
// - kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go @ 1329935739c3aa007d23cb9a4dadfee9d59ff79b
// - kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta3/types.go @ 428c3fe9540a2cbe8daf4645879a87b30bbf1d02
// - kubernetes/kubernetes cmd/kubeadm/app/apis/bootstraptoken/v1/types.go @ 95f08499d652a6211121d8af35f470609217c730
// - corev1.Taint (k8s.io/api core/v1): key, value, effect, timeAdded; corev1.EnvVar: name, value, valueFrom
// Types: string, bool, int, duration (metav1.Duration, a string), time, []T, map[string]T, a
// struct name, or any (a struct kubebake never writes, not checked inside). TypeMeta (apiVersion,
// kind) is inline in every kind.

export interface KubeadmApi {
  kinds: readonly string[];
  structs: Record<string, Record<string, string>>;
}

export const KUBEADM_FIELDS: Record<string, KubeadmApi> = {
  "kubeadm.k8s.io/v1beta4": {
    "kinds": [
      "InitConfiguration",
      "ClusterConfiguration",
      "JoinConfiguration",
      "ResetConfiguration",
      "UpgradeConfiguration"
    ],
    "structs": {
      "InitConfiguration": {
        "bootstrapTokens": "[]BootstrapToken",
        "dryRun": "bool",
        "nodeRegistration": "NodeRegistrationOptions",
        "localAPIEndpoint": "APIEndpoint",
        "certificateKey": "string",
        "skipPhases": "[]string",
        "patches": "Patches",
        "timeouts": "Timeouts"
      },
      "ClusterConfiguration": {
        "etcd": "any",
        "networking": "Networking",
        "kubernetesVersion": "string",
        "controlPlaneEndpoint": "string",
        "apiServer": "APIServer",
        "controllerManager": "ControlPlaneComponent",
        "scheduler": "ControlPlaneComponent",
        "dns": "any",
        "proxy": "any",
        "certificatesDir": "string",
        "imageRepository": "string",
        "featureGates": "map[string]bool",
        "clusterName": "string",
        "encryptionAlgorithm": "string",
        "certificateValidityPeriod": "duration",
        "caCertificateValidityPeriod": "duration"
      },
      "ControlPlaneComponent": {
        "extraArgs": "[]Arg",
        "extraVolumes": "[]any",
        "extraEnvs": "[]any"
      },
      "APIServer": {
        "extraArgs": "[]Arg",
        "extraVolumes": "[]any",
        "extraEnvs": "[]any",
        "certSANs": "[]string"
      },
      "APIEndpoint": {
        "advertiseAddress": "string",
        "bindPort": "int"
      },
      "NodeRegistrationOptions": {
        "name": "string",
        "criSocket": "string",
        "taints": "[]Taint",
        "kubeletExtraArgs": "[]Arg",
        "ignorePreflightErrors": "[]string",
        "imagePullPolicy": "string",
        "imagePullSerial": "bool"
      },
      "Networking": {
        "serviceSubnet": "string",
        "podSubnet": "string",
        "dnsDomain": "string"
      },
      "JoinConfiguration": {
        "dryRun": "bool",
        "nodeRegistration": "NodeRegistrationOptions",
        "caCertPath": "string",
        "discovery": "Discovery",
        "controlPlane": "JoinControlPlane",
        "skipPhases": "[]string",
        "patches": "Patches",
        "timeouts": "Timeouts"
      },
      "JoinControlPlane": {
        "localAPIEndpoint": "APIEndpoint",
        "certificateKey": "string"
      },
      "Discovery": {
        "bootstrapToken": "BootstrapTokenDiscovery",
        "file": "FileDiscovery",
        "tlsBootstrapToken": "string"
      },
      "BootstrapTokenDiscovery": {
        "token": "string",
        "apiServerEndpoint": "string",
        "caCertHashes": "[]string",
        "unsafeSkipCAVerification": "bool"
      },
      "FileDiscovery": {
        "kubeConfigPath": "string"
      },
      "Patches": {
        "directory": "string"
      },
      "Timeouts": {
        "controlPlaneComponentHealthCheck": "duration",
        "kubeletHealthCheck": "duration",
        "kubernetesAPICall": "duration",
        "etcdAPICall": "duration",
        "tlsBootstrap": "duration",
        "discovery": "duration",
        "upgradeManifests": "duration"
      },
      "Arg": {
        "name": "string",
        "value": "string"
      },
      "BootstrapToken": {
        "token": "string",
        "description": "string",
        "ttl": "duration",
        "expires": "time",
        "usages": "[]string",
        "groups": "[]string"
      },
      "Taint": {
        "key": "string",
        "value": "string",
        "effect": "string",
        "timeAdded": "time"
      },
      "ResetConfiguration": {},
      "UpgradeConfiguration": {}
    }
  },
  "kubeadm.k8s.io/v1beta3": {
    "kinds": [
      "InitConfiguration",
      "ClusterConfiguration",
      "JoinConfiguration"
    ],
    "structs": {
      "InitConfiguration": {
        "bootstrapTokens": "[]BootstrapToken",
        "nodeRegistration": "NodeRegistrationOptions",
        "localAPIEndpoint": "APIEndpoint",
        "certificateKey": "string",
        "skipPhases": "[]string",
        "patches": "Patches"
      },
      "ClusterConfiguration": {
        "etcd": "any",
        "networking": "Networking",
        "kubernetesVersion": "string",
        "controlPlaneEndpoint": "string",
        "apiServer": "APIServer",
        "controllerManager": "ControlPlaneComponent",
        "scheduler": "ControlPlaneComponent",
        "dns": "any",
        "certificatesDir": "string",
        "imageRepository": "string",
        "featureGates": "map[string]bool",
        "clusterName": "string"
      },
      "ControlPlaneComponent": {
        "extraArgs": "map[string]string",
        "extraVolumes": "[]any"
      },
      "APIServer": {
        "extraArgs": "map[string]string",
        "extraVolumes": "[]any",
        "certSANs": "[]string",
        "timeoutForControlPlane": "duration"
      },
      "APIEndpoint": {
        "advertiseAddress": "string",
        "bindPort": "int"
      },
      "NodeRegistrationOptions": {
        "name": "string",
        "criSocket": "string",
        "taints": "[]Taint",
        "kubeletExtraArgs": "map[string]string",
        "ignorePreflightErrors": "[]string",
        "imagePullPolicy": "string"
      },
      "Networking": {
        "serviceSubnet": "string",
        "podSubnet": "string",
        "dnsDomain": "string"
      },
      "JoinConfiguration": {
        "nodeRegistration": "NodeRegistrationOptions",
        "caCertPath": "string",
        "discovery": "Discovery",
        "controlPlane": "JoinControlPlane",
        "skipPhases": "[]string",
        "patches": "Patches"
      },
      "JoinControlPlane": {
        "localAPIEndpoint": "APIEndpoint",
        "certificateKey": "string"
      },
      "Discovery": {
        "bootstrapToken": "BootstrapTokenDiscovery",
        "file": "FileDiscovery",
        "tlsBootstrapToken": "string",
        "timeout": "duration"
      },
      "BootstrapTokenDiscovery": {
        "token": "string",
        "apiServerEndpoint": "string",
        "caCertHashes": "[]string",
        "unsafeSkipCAVerification": "bool"
      },
      "FileDiscovery": {
        "kubeConfigPath": "string"
      },
      "Patches": {
        "directory": "string"
      },
      "BootstrapToken": {
        "token": "string",
        "description": "string",
        "ttl": "duration",
        "expires": "time",
        "usages": "[]string",
        "groups": "[]string"
      },
      "Taint": {
        "key": "string",
        "value": "string",
        "effect": "string",
        "timeAdded": "time"
      }
    }
  }
};
