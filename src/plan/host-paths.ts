// Where kubebake puts things on a host: one table, read by the steps that use a path and by the
// manifests that place files there, so a path cannot drift between writer and reader.
const SCRIPT_DIR = '/usr/local/lib/kubebake';
const STATE_DIR = '/var/lib/kubebake';
const CONFIG_DIR = '/etc/kubebake';
/** kubeadm's own folder (kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go `KubernetesDir`). */
const KUBERNETES_DIR = '/etc/kubernetes';
/** Where apt sources keep their keyrings (apt's signed-by convention; os-prep creates it). */
const APT_KEYRINGS = '/etc/apt/keyrings';

export const HOST_PATHS = {
  scriptDir: SCRIPT_DIR,
  stateDir: STATE_DIR,
  configDir: CONFIG_DIR,
  /** The shell helpers a host's steps share, sourced by each step script. */
  library: `${SCRIPT_DIR}/lib.sh`,
  firstboot: `${SCRIPT_DIR}/firstboot.sh`,
  /** The systemd unit that runs firstboot at every boot until it says ok. */
  firstbootUnit: '/etc/systemd/system/kubebake-firstboot.service',
  labelNodes: `${SCRIPT_DIR}/label-nodes.sh`,
  /** `running: <step>`, `ok` or `failed: <step>: <reason>`. */
  status: `${STATE_DIR}/status`,
  /** The host's steps, one name a line, in the order the runner runs them. */
  stepList: `${CONFIG_DIR}/steps`,
  /** One `<step>` line per finished step: a re-run resumes after the last one. */
  stepsDone: `${STATE_DIR}/steps-done`,
  log: '/var/log/kubebake/firstboot.log',
  etcHosts: '/etc/hosts',
  kubeadmConfig: `${CONFIG_DIR}/kubeadm.yaml`,
  /** The cluster's bootstrap settings (ENDPOINT, BUDGET, ATTEMPTS), sourced by the kubeadm step. */
  clusterEnv: `${CONFIG_DIR}/cluster.env`,
  /** The host's topology address, which the address step checks it has. */
  address: `${CONFIG_DIR}/address`,
  /** The topology's resolver settings, copied to /etc/resolv.conf where nothing else applies them. */
  resolvConf: `${CONFIG_DIR}/resolv.conf`,
  /** The shared control-plane PKI as shipped; copied into /etc/kubernetes/pki before each attempt. */
  pkiStaging: `${CONFIG_DIR}/pki`,
  /** kubeadm's PKI folder (constants.go `DefaultCertificateDir`) and the files kubeadm writes there or beside it. */
  kubernetesPki: `${KUBERNETES_DIR}/pki`,
  /** The API server's serving certificate: present once an init or control-plane join got that far. */
  apiserverCert: `${KUBERNETES_DIR}/pki/apiserver.crt`,
  /** The cluster admin's kubeconfig (constants.go `AdminKubeConfigFileName`). */
  adminConf: `${KUBERNETES_DIR}/admin.conf`,
  /** kubelet's kubeconfig, written once its TLS bootstrap is done (constants.go `KubeletKubeConfigFileName`). */
  kubeletConf: `${KUBERNETES_DIR}/kubelet.conf`,
  /** kubeadm's control-plane marker on a node: the kube-apiserver static pod (cmd/kubeadm/app/cmd/upgrade/node.go newNodeData). */
  apiserverManifest: `${KUBERNETES_DIR}/manifests/kube-apiserver.yaml`,
  aptKeyrings: APT_KEYRINGS,
  cniDir: `${CONFIG_DIR}/cni`,
  calicoResources: `${CONFIG_DIR}/cni/calico-resources.yaml`,
  flannelManifest: `${CONFIG_DIR}/cni/kube-flannel.yml`,
  firewallRuleset: `${CONFIG_DIR}/firewall.nft`,
  firewallUnit: '/etc/systemd/system/kubebake-firewall.service',
  haproxyStaged: `${CONFIG_DIR}/haproxy.cfg`,
  keepalivedStaged: `${CONFIG_DIR}/keepalived.conf`,
  keepalivedCheck: '/etc/keepalived/check-haproxy.sh',
  lbSysctl: '/etc/sysctl.d/90-kubebake-lb.conf',
  /** With delivery.server: where and as whom this host reports its progress (0600, its own key only). */
  reportConfig: `${CONFIG_DIR}/report`,
  /** Made by the first report of a boot (tmpfs: each boot reports "boot" once). */
  reportBooted: '/run/kubebake-booted',
  /** What a baked image was built for and contains. */
  imageProvenance: `${CONFIG_DIR}/image.json`,
} as const;

/** A unit's name (what systemctl takes) from its path. */
export const unitName = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

/** A step's script on the host. */
export const stepPath = (name: string): string => `${SCRIPT_DIR}/${name}.sh`;

/** An apt source's keyring on the host: fetched from the repository (.gpg, dearmored) or given inline (.asc, armored). */
export const aptKeyring = (name: string, form: 'gpg' | 'asc'): string => `${APT_KEYRINGS}/${name}-apt-keyring.${form}`;

/** An apt source's one-line list. */
export const aptSourceList = (name: string): string => `/etc/apt/sources.list.d/${name}.list`;
