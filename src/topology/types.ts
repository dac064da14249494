import type { BUILDERS, CNIS, FIREWALL_MODES, IMAGE_MODES, INGRESS_TARGETS, OS_PROFILES, OVERRIDABLE_CHECKS, ROLES, TAINT_EFFECTS } from './schema.js';

// The topology after schema validation with defaults applied (see schema.ts for every field's doc).
export type OsProfile = (typeof OS_PROFILES)[number];
export type CniPlugin = (typeof CNIS)[number];
export type Role = (typeof ROLES)[number];
export type FirewallMode = (typeof FIREWALL_MODES)[number];
export type ImageMode = (typeof IMAGE_MODES)[number];
export type IngressTargets = (typeof INGRESS_TARGETS)[number];
export type Builder = (typeof BUILDERS)[number];
export type OverridableCheck = (typeof OVERRIDABLE_CHECKS)[number];

export interface Taint { key: string; value?: string; effect: (typeof TAINT_EFFECTS)[number] }

export interface Host {
  name: string;
  role: Role;
  ip: string;
  mac?: string;
  interface?: string;
  /** The disk the PXE installer installs to (topology/install-disk.ts). */
  installDisk?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
}

export interface IngressFrontend { name: string; port: number; nodePort: number; targets: IngressTargets; nodeSelector?: Record<string, string> }

export interface Topology {
  apiVersion: 'kubebake/v1alpha1';
  kind: 'Cluster';
  name: string;
  kubernetes: { version: string; crio?: string };
  os: OsProfile;
  cni: { plugin: CniPlugin; version?: string };
  network: {
    nodeSubnet: string;
    gateway: string;
    dns: string[];
    searchDomain?: string;
    podSubnet: string;
    serviceSubnet: string;
    etcHosts: 'auto' | 'all' | 'essential';
  };
  apiEndpoint: { loadBalancer?: string; vip?: { address: string; routerId: number }; port: number; dnsName?: string };
  ingress: IngressFrontend[];
  hosts: Host[];
  access: { adminUser: string; sshAuthorizedKeys: string[] };
  firewall: FirewallMode;
  image: ImageMode;
  bootstrap: { tokenTTL: string; apiWaitSeconds: number; joinAttempts: number };
  packer: { builder: Builder; outputFormat: 'qcow2' | 'raw'; diskSizeGB: number };
  overrides: { check: OverridableCheck; reason: string }[];
  delivery: { server?: string; proxmox: { snippetStorage: string } };
  mirrors?: Mirrors;
  proxy?: { http?: string; https?: string; noProxy: string[] };
}

/** keyFile is read by readTopology (topology/key-files.ts) and replaced by key. */
export interface PackageMirror { url: string; key?: string; keyFile?: string }
export interface Mirrors {
  kubernetes?: PackageMirror;
  crio?: PackageMirror;
  os?: PackageMirror & { securityUrl?: string };
  registries?: Record<string, string>;
  files?: string;
  caCertificates?: string[];
  keepInImage: boolean;
}
