// The network a sandboxed boot (test/helpers/sandbox.ts) configured, read from whichever renderer
// cloud-init chose: its renderer depends on what the image has (netplan.io, ifupdown or neither:
// cloud-init 22.4 cloudinit/distros/__init__.py _get_renderer logs "Selected renderer '<name>'"),
// so assertions about address, route and DNS go through here and hold for any of them.
import type { BootResult } from './sandbox.js';

export type Renderer = 'netplan' | 'networkd' | 'eni';

export interface RenderedNetwork {
  renderer: Renderer;
  /** The files the OS's network stack reads for the NIC, relative to the root. */
  files: string[];
  /** What they say for the NIC: addresses (CIDR), default gateways, DNS servers, search domains, and what the NIC is matched by. */
  addresses: string[];
  gateways: string[];
  dns: string[];
  domains: string[];
  match: string[];
}

/** systemd.network(5) keys of a file, each value split on spaces. */
function networkdValues(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].flatMap((m) => m[1]!.trim().split(/\s+/)).filter(Boolean);
}

function fromNetworkd(renderer: Renderer, files: [string, string][]): RenderedNetwork {
  const all = (key: string): string[] => files.flatMap(([, t]) => networkdValues(t, key));
  return {
    renderer,
    files: files.map(([p]) => p),
    addresses: all('Address'),
    gateways: all('Gateway'),
    dns: all('DNS'),
    domains: all('Domains'),
    match: [...all('MACAddress'), ...all('PermanentMACAddress'), ...all('Name')].map((m) => m.toLowerCase()),
  };
}

/** interfaces(5) as cloud-init's eni renderer writes it: address CIDR, gateway or a post-up default route, dns-* options. */
function fromEni(path: string, text: string): RenderedNetwork {
  const words = (key: string): string[] => [...text.matchAll(new RegExp(`^\\s*${key}\\s+(.*)$`, 'gm'))].flatMap((m) => m[1]!.trim().split(/\s+/));
  const routes = [...text.matchAll(/^\s*post-up route add -net 0\.0\.0\.0\/0 gw (\S+)/gm)].map((m) => m[1]!);
  return {
    renderer: 'eni',
    files: [path],
    addresses: words('address'),
    gateways: [...words('gateway'), ...routes],
    dns: words('dns-nameservers'),
    domains: words('dns-search'),
    match: words('iface').filter((w, i, all) => i === 0 || all[i - 1] !== 'inet'),
  };
}

/**
 * The network the boot's OS applies: the files of the renderer cloud-init selected, or, when the
 * image turned cloud-init's networking off (an Ubuntu install: subiquity writes netplan itself),
 * the networkd files netplan's generator made at boot.
 */
export function renderedNetwork(boot: BootResult): RenderedNetwork {
  const selected = /Selected renderer '(\w+)'/.exec(boot.read('var/log/cloud-init.log') ?? '')?.[1];
  const readAll = (paths: string[]): [string, string][] => paths.flatMap((p) => {
    const t = boot.read(p);
    return t === undefined ? [] : [[p, t] as [string, string]];
  });
  const netplanFiles = (): [string, string][] => readAll(boot.list('run/systemd/network').filter((f) => /^10-netplan-.*\.network$/.test(f)).map((f) => `run/systemd/network/${f}`));
  switch (selected) {
    case 'networkd':
      return fromNetworkd('networkd', readAll(boot.list('etc/systemd/network').filter((f) => /^10-cloud-init-.*\.network$/.test(f)).map((f) => `etc/systemd/network/${f}`)));
    case 'eni': {
      const path = 'etc/network/interfaces.d/50-cloud-init';
      return fromEni(path, boot.read(path) ?? '');
    }
    case 'netplan':
    case undefined:
      return fromNetworkd('netplan', netplanFiles());
    default:
      throw new Error(`cloud-init selected renderer ${selected}, which this helper does not read`);
  }
}
