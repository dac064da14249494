// Checks of `mirrors` a schema cannot express: a site that set some mirrors most likely meant all
// of them; what still comes from upstream is said (a warning: a partly mirrored site is legitimate).
import type { FieldPath } from '../diagnostics/diagnostic.js';
import { msg, type Message } from '../diagnostics/messages.js';
import { OS } from './facts/versions.js';
import type { Topology } from './types.js';

/** Each mirror and the upstream it replaces. */
const MIRRORED = [
  ['kubernetes', 'pkgs.k8s.io'],
  ['crio', 'download.opensuse.org (isv:cri-o)'],
  ['os', "the OS archive (the image's apt sources)"],
  ['files', 'github.com and raw.githubusercontent.com (CNI manifests), the cloud image site (Packer)'],
  ['registries', 'registry.k8s.io, quay.io, docker.io, ghcr.io (container images)'],
] as const;

export function checkMirrors(t: Topology, warn: (path: FieldPath, m: Message) => void): void {
  if (!t.mirrors) return;
  const missing = MIRRORED.filter(([field]) => t.mirrors![field] === undefined);
  if (missing.length) warn(['mirrors'], msg.mirrorsPartial(missing.map(([field, upstream]) => `${upstream} (mirrors.${field})`)));
  // mirrors.os replaces the image's apt sources. Ubuntu's archive carries <codename>-security;
  // Debian's security archive is a separate one (security.debian.org/debian-security), so
  // without securityUrl a Debian host would silently get no security updates at all.
  if (t.mirrors.os && !t.mirrors.os.securityUrl && OS[t.os].family === 'debian') {
    warn(['mirrors', 'os'], msg.debianNoSecurityMirror(OS[t.os].codename));
  }
}

