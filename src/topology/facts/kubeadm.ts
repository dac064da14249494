// Facts about kubeadm that kubebake's output depends on, each spelled here once.

/**
 * The port kube-apiserver listens on, on every control plane: kubeadm's default bind port
 * (kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go, `DefaultAPIBindPort =
 * 6443`), which kubebake also writes explicitly as `localAPIEndpoint.bindPort`. The topology's
 * `apiEndpoint.port` (the load balancer's front end) defaults to the same number in the schema.
 */
export const API_SERVER_PORT = 6443;
