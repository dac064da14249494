// The one source of truth for the shape of a topology file. `kubebake schema` prints it so
// editors (yaml-language-server, VS Code) validate topologies as the operator types.
// Cross-field checks a schema cannot express live in rules.ts.
import { API_SERVER_PORT } from './facts/kubeadm.js';

export const OS_PROFILES = ['ubuntu-20.04', 'ubuntu-22.04', 'ubuntu-24.04', 'ubuntu-26.04', 'debian-12', 'debian-13'] as const;
export const CNIS = ['calico', 'flannel', 'cilium', 'weave'] as const;
export const ROLES = ['control-plane', 'worker', 'load-balancer'] as const;
export const FIREWALL_MODES = ['open-required-ports', 'disabled'] as const;
export const IMAGE_MODES = ['first-boot', 'baked'] as const;
export const INGRESS_TARGETS = ['workers', 'control-planes'] as const;
export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const BUILDERS = ['qemu', 'proxmox-clone', 'vsphere-clone'] as const;
/** Checks an operator may knowingly override in `overrides:` (each needs a reason). */
export const OVERRIDABLE_CHECKS = ['etcd-quorum'] as const;

const ipv4 = '^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$';
const cidr4 = ipv4.slice(0, -1) + '/(3[0-2]|[12]?[0-9])$';
// RFC 1123 label: it becomes a hostname, a Kubernetes node name and a shell word.
const dnsLabel = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';
const dnsName = '^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$';

/**
 * A label or taint key: an optional DNS-subdomain prefix (dot-separated RFC 1123 labels, at most
 * 253 characters) and "/", then a name of at most 63 characters.
 */
const qualifiedName =
  '^((?=[^/]{1,253}/)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** A label value: empty, or up to 63 letters, digits, "-", "_", "." starting and ending alphanumeric. */
const labelValue = '^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$';
const qualifiedNameHelp = 'A Kubernetes key: an optional DNS prefix like example.com/ (lower-case labels separated by single dots), then a name of letters, digits, "-", "_" or "." (at most 63).';

const label = { type: 'string', pattern: dnsLabel, description: 'An RFC 1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters.' };
const ipAddress = { type: 'string', pattern: ipv4, description: 'An IPv4 address, e.g. 10.2.47.80.' };
const cidr = { type: 'string', pattern: cidr4, description: 'An IPv4 network in CIDR form, e.g. 10.2.47.0/24.' };
const port = { type: 'integer', minimum: 1, maximum: 65535 };

// Mirror URLs become shell words and apt source lines: no quotes, spaces or shell metacharacters.
const mirrorUrl = { type: 'string', pattern: "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~:@%+,=/-]*)?/$", description: 'An http(s) URL ending in "/".' };
const armoredKey = { type: 'string', pattern: '^-----BEGIN PGP PUBLIC KEY BLOCK-----\\n[\\s\\S]+-----END PGP PUBLIC KEY BLOCK-----\\n?$', description: 'An ASCII-armored OpenPGP public key (what Release.key holds).' };
const keyFile = { type: 'string', minLength: 1, maxLength: 4096, description: 'A file holding the signing key (ASCII-armored), relative to the topology file.' };
const packageMirror = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: mirrorUrl,
    key: { ...armoredKey, description: `The repository's signing key; without key or keyFile first boot fetches <url>Release.key. ${armoredKey.description}` },
    keyFile: keyFile,
  },
  description: 'A flat apt repository (deb <url> /) and its signing key (key or keyFile, not both).',
};
const registryHost = '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$';
const registryLocation = '^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9._/-]+)?$';
const proxyUrl = { type: 'string', pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$', description: 'A proxy URL, e.g. http://proxy.lab:3128.' };

export const topologySchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://kubebake.dev/schema/v1alpha1/cluster.json',
  title: 'kubebake Cluster topology',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'name', 'kubernetes', 'network', 'apiEndpoint', 'hosts'],
  properties: {
    apiVersion: { const: 'kubebake/v1alpha1' },
    kind: { const: 'Cluster' },
    name: { ...label, description: `Cluster name (also the output folder out/<name>/). ${label.description}` },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      required: ['version'],
      properties: {
        version: { type: 'string', pattern: '^1\\.[1-9][0-9]\\.(0|[1-9][0-9]{0,2})$', description: 'Full patch version without leading zeros, e.g. 1.37.2.' },
        crio: { type: 'string', pattern: '^1\\.[1-9][0-9](\\.(0|[1-9][0-9]{0,2}))?$', description: 'CRI-O version without leading zeros; its minor must equal Kubernetes\' minor. Default: that minor, latest patch.' },
      },
    },
    os: { enum: [...OS_PROFILES], default: 'ubuntu-24.04' },
    cni: {
      type: 'object',
      additionalProperties: false,
      required: ['plugin'],
      properties: {
        plugin: { enum: [...CNIS] },
        version: { type: 'string', pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+$', description: 'Overrides the CNI release kubebake pins.' },
      },
      default: { plugin: 'calico' },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      required: ['nodeSubnet', 'gateway'],
      properties: {
        nodeSubnet: cidr,
        gateway: ipAddress,
        dns: { type: 'array', items: ipAddress, minItems: 1, maxItems: 3, default: ['1.1.1.1', '9.9.9.9'] },
        searchDomain: { type: 'string', pattern: dnsName, description: 'A lower-case DNS name, e.g. lab.example.com.' },
        podSubnet: { ...cidr, default: '10.244.0.0/16' },
        serviceSubnet: { ...cidr, default: '10.96.0.0/12' },
        etcHosts: {
          enum: ['auto', 'all', 'essential'],
          default: 'auto',
          description:
            "What each host's /etc/hosts names: all = every host of the cluster; essential = localhost, the host itself, the load balancers, the control planes and the API name; auto = all up to 32 hosts, essential beyond (a full list on every host grows with the square of the cluster).",
        },
      },
    },
    apiEndpoint: {
      type: 'object',
      additionalProperties: false,
      properties: {
        loadBalancer: { ...label, description: 'Name of the one load-balancer host whose address is the API endpoint.' },
        vip: {
          type: 'object',
          additionalProperties: false,
          required: ['address'],
          description: 'A virtual IP kept by keepalived (VRRP) on every load-balancer host.',
          properties: {
            address: ipAddress,
            routerId: { type: 'integer', minimum: 1, maximum: 255, default: 51 },
          },
        },
        // The front end defaults to the port the API server itself listens on (facts/kubeadm.ts).
        port: { ...port, default: API_SERVER_PORT },
        dnsName: { type: 'string', pattern: dnsName, description: 'Extra DNS name for the API server certificate, lower-case, e.g. api.lab.example.com.' },
      },
    },
    ingress: {
      type: 'array',
      default: [],
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'port', 'nodePort'],
        properties: {
          name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,30}$', description: 'A short lower-case name (letters, digits, "-"), e.g. https; it names the HAProxy frontend.' },
          port: port,
          nodePort: { type: 'integer', description: 'A NodePort, 30000-32767.' },
          targets: { enum: [...INGRESS_TARGETS], default: 'workers' },
          nodeSelector: {
            type: 'object',
            maxProperties: 16,
            description: 'Only the targeted hosts whose labels match every key and value (as a Pod\'s nodeSelector), e.g. { node-role.kubernetes.io/ingress: "" }: dedicated ingress nodes, so a load balancer checks a few backends, not every worker.',
            propertyNames: { pattern: qualifiedName, description: qualifiedNameHelp },
            additionalProperties: { type: 'string', pattern: labelValue },
          },
        },
      },
    },
    hosts: {
      type: 'array',
      minItems: 1,
      // A sanity bound (a topology file is at most 1 MiB anyway); beyond MAX_CLUSTER_HOSTS is a warning.
      maxItems: 20000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'role', 'ip'],
        properties: {
          name: label,
          role: { enum: [...ROLES] },
          ip: ipAddress,
          mac: { type: 'string', pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$', description: 'A lower-case MAC address like 52:54:00:12:34:56; network-config matches the NIC by it.' },
          interface: { type: 'string', pattern: '^[a-z][a-z0-9._-]{0,14}$', description: 'A Linux interface name (at most 15 characters), e.g. ens18.' },
          installDisk: {
            type: 'string',
            maxLength: 255,
            pattern: '^/dev/[A-Za-z0-9_.:+@-]+(/[A-Za-z0-9_.:+@-]+)*$',
            description:
              'The disk the PXE installer erases and installs to: its kernel name (/dev/sda, /dev/nvme0n1) or, for Debian, a stable link (/dev/disk/by-id/…, /dev/disk/by-path/…). Without it, Debian takes the first disk the installer lists and Ubuntu the largest.',
          },
          labels: {
            type: 'object',
            maxProperties: 64,
            propertyNames: { pattern: qualifiedName, description: qualifiedNameHelp },
            additionalProperties: { type: 'string', pattern: labelValue },
          },
          taints: {
            type: 'array',
            maxItems: 32,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['key', 'effect'],
              properties: {
                key: { type: 'string', pattern: qualifiedName, description: qualifiedNameHelp },
                value: { type: 'string', pattern: labelValue },
                effect: { enum: [...TAINT_EFFECTS] },
              },
            },
          },
        },
      },
    },
    access: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        adminUser: { type: 'string', pattern: '^[a-z_][a-z0-9_-]{0,31}$', default: 'kubeadmin', description: 'A Linux user name: lower-case letters, digits, "_" or "-", at most 32 characters.' },
        sshAuthorizedKeys: {
          type: 'array',
          default: [],
          maxItems: 64,
          // The comment: any text on the line but control characters and Unicode line breaks, which
          // YAML 1.1 readers (PyYAML, cloud-init's) take for the end of a line: NEL U+0085, U+2028, U+2029.
          items: { type: 'string', pattern: '^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\\.com) [A-Za-z0-9+/=]+( [^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*)?$', description: 'One OpenSSH public key line: "ssh-ed25519 AAAA… comment" (the comment without control characters or line breaks).' },
        },
      },
    },
    firewall: { enum: [...FIREWALL_MODES], default: 'open-required-ports' },
    image: { enum: [...IMAGE_MODES], default: 'first-boot' },
    bootstrap: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        tokenTTL: { type: 'string', pattern: '^(0|(?=.)([0-9]+h)?([0-9]+m)?([0-9]+s)?)$', default: '24h', description: 'Go duration, e.g. 24h or 2h30m; 0 never expires.' },
        apiWaitSeconds: { type: 'integer', minimum: 30, maximum: 86400, default: 1800, description: 'How long a joining node waits for the API behind the load balancer.' },
        joinAttempts: { type: 'integer', minimum: 1, maximum: 20, default: 5 },
      },
    },
    packer: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        builder: { enum: [...BUILDERS], default: 'qemu' },
        outputFormat: { enum: ['qcow2', 'raw'], default: 'qcow2' },
        diskSizeGB: { type: 'integer', minimum: 4, maximum: 2048, default: 20 },
      },
    },
    delivery: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'How hosts are handed to hypervisors (render cloud-init --delivery).',
      properties: {
        server: {
          type: 'string',
          pattern: '^http://[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[1-9][0-9]{0,4})?$',
          description:
            "Base URL of the provisioning server (`kubebake serve`), e.g. http://10.2.47.5:8080: PXE hosts fetch their seeds from it and every host's first boot reports its progress to it. Plain HTTP on the provisioning network; reports are authenticated per host.",
        },
        proxmox: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            // pve-storage's storage id rule: a letter first, then letters, digits, "-", "_" or ".".
            snippetStorage: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]*$', default: 'local', description: 'Proxmox storage with the "snippets" content type that holds the cloud-init files (qm set --cicustom).' },
          },
        },
      },
    },
    mirrors: {
      type: 'object',
      additionalProperties: false,
      description: 'Where a restricted network installs from instead of the internet. With every mirror set, no upstream download host appears in the output (`kubebake manifest` lists what the mirrors must hold; `kubebake bundle` helps fill them).',
      properties: {
        kubernetes: { ...packageMirror, description: `Replaces pkgs.k8s.io's repository of the cluster's minor (core:/stable:/v1.NN/deb/). ${packageMirror.description}` },
        crio: { ...packageMirror, description: `Replaces isv:cri-o's repository of the cluster's minor. ${packageMirror.description}` },
        os: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          description: "Replaces the OS's own package archive (every apt source the image had is set aside).",
          properties: {
            url: { ...mirrorUrl, description: `Base of a copy of the OS archive (dists/<codename>…), e.g. http://mirror.lab/ubuntu/. ${mirrorUrl.description}` },
            securityUrl: { ...mirrorUrl, description: 'Base of the security archive when it is not in url (Debian: a copy of security.debian.org/debian-security).' },
            key: { ...armoredKey, description: `The mirror's signing key, when it re-signs the archive; default: the OS's own archive keyring. ${armoredKey.description}` },
            keyFile: keyFile,
          },
                },
        registries: {
          type: 'object',
          maxProperties: 32,
          description: "Container registry mirrors for CRI-O (registries.conf): upstream registry → mirror, e.g. registry.k8s.io: mirror.lab:5000/registry.k8s.io.",
          propertyNames: { pattern: registryHost, description: 'A registry host name, e.g. registry.k8s.io, docker.io, quay.io, ghcr.io.' },
          additionalProperties: { type: 'string', pattern: registryLocation, description: 'host[:port][/path] of the mirror, without a scheme.' },
        },
        files: { ...mirrorUrl, description: `Where first boot downloads what is not a package or an image (CNI manifests, the Cilium CLI), laid out as \`kubebake bundle\`'s mirror/files/. ${mirrorUrl.description}` },
        caCertificates: {
          type: 'array',
          maxItems: 16,
          items: { type: 'string', pattern: '^-----BEGIN CERTIFICATE-----\\n[A-Za-z0-9+/=\\n]+-----END CERTIFICATE-----\\n?$', description: 'A PEM certificate.' },
          description: 'Extra CA certificates trusted by the OS and by CRI-O (a mirror or proxy with a private CA).',
        },
        keepInImage: { type: 'boolean', default: true, description: 'Baked images keep the mirror and proxy settings for their first boot (false: the image drops them before it is sealed).' },
      },
    },
    proxy: {
      type: 'object',
      additionalProperties: false,
      description: 'An HTTP proxy for apt, CRI-O, kubelet and first boot. noProxy always gets the node, pod and service subnets, the API endpoint, localhost, 127.0.0.1 and the cluster domain.',
      properties: {
        http: proxyUrl,
        https: proxyUrl,
        noProxy: { type: 'array', maxItems: 64, default: [], items: { type: 'string', pattern: '^[A-Za-z0-9.*:/_-]{1,253}$', description: 'A host, domain (.example.com) or CIDR.' } },
      },
    },
    overrides: {
      type: 'array',
      default: [],
      maxItems: 16,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['check', 'reason'],
        properties: {
          check: { enum: [...OVERRIDABLE_CHECKS] },
          reason: { type: 'string', minLength: 10, description: 'Why this cluster knowingly breaks the rule; printed with every render.' },
        },
      },
    },
  },
} as const;
