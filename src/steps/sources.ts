// A restricted network's settings on a host (topology `mirrors` and `proxy`): extra CA
// certificates, the OS archive's mirror, apt's proxy, CRI-O's registry mirrors and the proxy for
// CRI-O and kubelet. Written before any apt call, by first boot and by Packer alike.
import { aptKeyring } from '../plan/host-paths.js';
import type { ClusterPlan } from '../plan/plan.js';
import type { ProxyPlan } from '../plan/sources.js';
import { GENERATED } from '../util/generated.js';
import { aptSourceFiles } from './crio.js';
import { heredoc, q } from './shell.js';
import type { Step } from './step.js';

/** Where the settings go; `drop-sources` removes exactly these. */
export const SOURCE_PATHS = {
  caDir: '/usr/local/share/ca-certificates',
  caPrefix: 'kubebake-',
  osSources: '/etc/apt/sources.list.d/kubebake-os.sources',
  osKeyring: aptKeyring('kubebake-os', 'asc'),
  /** The image's own apt sources, set aside while the mirror replaces them. */
  setAside: '/etc/apt/kubebake-set-aside',
  aptProxy: '/etc/apt/apt.conf.d/90kubebake-proxy',
  registries: '/etc/containers/registries.conf.d/90-kubebake-mirrors.conf',
  certsD: '/etc/containers/certs.d',
  proxyDropIn: (unit: string): string => `/etc/systemd/system/${unit}.service.d/90-kubebake-proxy.conf`,
  proxyEnv: '/etc/kubebake/proxy.env',
} as const;

/** Services that pull or fetch on their own and so get the proxy in their environment. */
const PROXIED_UNITS = ['crio', 'kubelet'] as const;

/** The archive keyring each OS family's images carry (debian-archive-keyring, ubuntu-keyring). */
const OS_KEYRING = { debian: '/usr/share/keyrings/debian-archive-keyring.gpg', ubuntu: '/usr/share/keyrings/ubuntu-archive-keyring.gpg' } as const;

/** Writes a file with a quoted heredoc (no expansion), after creating its folder. */
function writeFile(path: string, content: string, mode = '0644'): string {
  return `install -d -m 0755 ${q(path.slice(0, path.lastIndexOf('/')))}
${heredoc(`cat > ${q(path)}`, content)}
chmod ${mode} ${q(path)}`;
}

/** The OS archive's mirror as a deb822 source; security from its own mirror when Debian's lives apart. */
export function osSources(plan: ClusterPlan): string | undefined {
  const os = plan.mirrors?.os;
  if (!os) return undefined;
  const c = plan.os.codename;
  const components = plan.os.family === 'ubuntu' ? 'main universe' : 'main';
  const signedBy = os.key ? SOURCE_PATHS.osKeyring : OS_KEYRING[plan.os.family];
  const stanza = (url: string, suites: string[]): string =>
    `Types: deb\nURIs: ${url}\nSuites: ${suites.join(' ')}\nComponents: ${components}\nSigned-By: ${signedBy}\n`;
  const security = `${c}-security`;
  // Ubuntu's archive carries -security itself; Debian's security archive is a separate one.
  const main = [c, `${c}-updates`, ...(os.securityUrl || plan.os.family === 'debian' ? [] : [security])];
  const stanzas = [stanza(os.url, main)];
  if (os.securityUrl) stanzas.push(stanza(os.securityUrl, [security]));
  return `# ${GENERATED}\n${stanzas.join('\n')}`;
}

/** apt.conf lines for the proxy; hosts named in noProxy go direct (apt has no CIDR or domain form). */
export function aptProxyConf(proxy: ProxyPlan): string {
  const lines = [`// ${GENERATED}`];
  if (proxy.http) lines.push(`Acquire::http::Proxy "${proxy.http}";`);
  if (proxy.https) lines.push(`Acquire::https::Proxy "${proxy.https}";`);
  for (const host of proxy.noProxy.filter((h) => !h.includes('/') && !h.startsWith('.') && !h.includes('*'))) {
    if (proxy.http) lines.push(`Acquire::http::Proxy::${host} "DIRECT";`);
    if (proxy.https) lines.push(`Acquire::https::Proxy::${host} "DIRECT";`);
  }
  return lines.join('\n') + '\n';
}

/** The proxy as environment variables, both spellings (Go reads either, curl the lower-case ones). */
export function proxyVariables(proxy: ProxyPlan): [string, string][] {
  const vars: [string, string][] = [];
  if (proxy.http) vars.push(['HTTP_PROXY', proxy.http], ['http_proxy', proxy.http]);
  if (proxy.https) vars.push(['HTTPS_PROXY', proxy.https], ['https_proxy', proxy.https]);
  const none = proxy.noProxy.join(',');
  vars.push(['NO_PROXY', none], ['no_proxy', none]);
  return vars;
}

/** A systemd drop-in giving a service the proxy. */
export function proxyDropIn(proxy: ProxyPlan): string {
  // systemd's Environment= takes "VAR=value" words; values here have no quotes or spaces (schema).
  return `# ${GENERATED}\n[Service]\n${proxyVariables(proxy).map(([k, v]) => `Environment="${k}=${v}"`).join('\n')}\n`;
}

/** Shell that exports the proxy (first boot's own downloads: kubectl apply -f URL, curl). */
export function proxyExports(plan: ClusterPlan): string {
  return plan.proxy ? `export ${proxyVariables(plan.proxy).map(([k, v]) => `${k}=${q(v)}`).join(' ')}\n` : '';
}

/** CRI-O's registry mirrors (containers-registries.conf(5), version 2 format, a drop-in). */
export function registriesConf(registries: Record<string, string>): string {
  // TOML basic strings: the schema allows only host, port and path characters, which need no escaping.
  const blocks = Object.entries(registries).map(
    ([registry, mirror]) => `[[registry]]\nprefix = "${registry}"\nlocation = "${registry}"\n\n[[registry.mirror]]\nlocation = "${mirror}"\n`,
  );
  return `# ${GENERATED}\n${blocks.join('\n')}`;
}

const mirrorHost = (location: string): string => location.split('/')[0]!;

/** The step, or undefined when the topology has neither mirrors nor a proxy. */
export function sourcesStep(plan: ClusterPlan): Step | undefined {
  const m = plan.mirrors;
  if (!m && !plan.proxy) return undefined;
  const parts: string[] = [];
  const cas = m?.caCertificates ?? [];
  if (cas.length) {
    parts.push(`# Extra CA certificates: the OS trust store (curl, apt, Go programs such as CRI-O read it).`);
    cas.forEach((pem, i) => parts.push(writeFile(`${SOURCE_PATHS.caDir}/${SOURCE_PATHS.caPrefix}${i + 1}.crt`, pem)));
    parts.push('if command -v update-ca-certificates >/dev/null; then update-ca-certificates >/dev/null; fi');
    // CRI-O also trusts CAs per registry host (containers-certs.d(5)).
    for (const host of new Set(Object.values(m?.registries ?? {}).map(mirrorHost))) {
      parts.push(writeFile(`${SOURCE_PATHS.certsD}/${host}/kubebake.crt`, cas.join('\n')));
    }
  }
  const os = osSources(plan);
  if (os) {
    parts.push(`# The OS archive's mirror replaces every apt source the image had (set aside, not deleted).
install -d -m 0755 ${SOURCE_PATHS.setAside}
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -e "$f" ] || continue
  case "$f" in /etc/apt/sources.list.d/kubebake-*|/etc/apt/sources.list.d/kubernetes.list|/etc/apt/sources.list.d/cri-o.list) continue ;; esac
  mv "$f" ${SOURCE_PATHS.setAside}/
done`);
    if (m?.os?.key) parts.push(writeFile(SOURCE_PATHS.osKeyring, m.os.key));
    parts.push(writeFile(SOURCE_PATHS.osSources, os));
  }
  if (m?.registries && Object.keys(m.registries).length) {
    parts.push('# Container registry mirrors, for CRI-O.', writeFile(SOURCE_PATHS.registries, registriesConf(m.registries)));
  }
  if (plan.proxy) {
    parts.push('# The proxy: apt, CRI-O and kubelet (systemd drop-ins), and first boot (proxy.env).', writeFile(SOURCE_PATHS.aptProxy, aptProxyConf(plan.proxy)));
    for (const unit of PROXIED_UNITS) parts.push(writeFile(SOURCE_PATHS.proxyDropIn(unit), proxyDropIn(plan.proxy)));
    parts.push(writeFile(SOURCE_PATHS.proxyEnv, `# ${GENERATED}\n${proxyExports(plan)}`), 'systemctl daemon-reload');
  }
  return {
    name: 'sources',
    purpose: 'Restricted network: CA certificates, package and registry mirrors, proxy.',
    helpers: [],
    body: parts.join('\n'),
  };
}

/** Takes the site's mirror and proxy settings out of a baked image (mirrors.keepInImage: false). */
export function dropSourcesStep(plan: ClusterPlan): Step {
  const p = SOURCE_PATHS;
  // The Kubernetes and CRI-O repositories too, when they are the build site's mirrors: left in the
  // image, an apt-get update at the deploying site would fail on a mirror it cannot reach.
  const mirrored = [...(plan.mirrors?.kubernetes ? ['kubernetes'] : []), ...(plan.mirrors?.crio ? ['cri-o'] : [])];
  const repos = mirrored.length ? `\nrm -f ${mirrored.flatMap(aptSourceFiles).join(' ')}` : '';
  return {
    name: 'drop-sources',
    purpose: "Removes the build site's mirrors and proxy from the image (mirrors.keepInImage: false); first boot writes the deploying site's.",
    helpers: [],
    body: `rm -f ${p.osSources} ${p.osKeyring} ${p.aptProxy} ${p.registries} ${p.proxyEnv} ${PROXIED_UNITS.map(p.proxyDropIn).join(' ')}${repos}
rm -f ${p.caDir}/${p.caPrefix}*.crt ${p.certsD}/*/kubebake.crt
if command -v update-ca-certificates >/dev/null; then update-ca-certificates --fresh >/dev/null; fi
if [ -d ${p.setAside} ]; then
  for f in ${p.setAside}/*; do
    [ -e "$f" ] || continue
    case "$f" in */sources.list) mv "$f" /etc/apt/sources.list ;; *) mv "$f" /etc/apt/sources.list.d/ ;; esac
  done
  rmdir ${p.setAside}
fi
systemctl daemon-reload`,
  };
}
