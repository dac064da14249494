// Hosts of a cluster that day-2 commands reach over SSH, for tests: each is the root a sandboxed
// first boot left (test/helpers/sandbox.ts: the real cloud-init made its admin user, sudo rule
// and authorized_keys from the topology; the stand-ins left kubeadm's files, the kubelet, etcd),
// stacked over this machine's root in a private mount and UTS namespace (hostname = the host's
// name, as the kubeadm stand-in reads it), and served by the real OpenSSH server (Debian's
// openssh-server) on 127.0.0.1:<port>, chrooted into that root. The client side is the real
// OpenSSH client with an ssh_config that sends each host's topology address to its port, checks
// the host keys the test made (known_hosts) and offers the test's key: exactly what kubebake gets
// with --ssh-config. The hosts share one cluster record (/standin/shared/cluster-state.json: the
// API objects, Nodes and etcd members the kubeadm stand-in keeps), as the machines of one cluster do.
// Files a host has afterwards are read through /proc/<pid>/root of its sshd. followNodes makes the
// stand-in API (fake-apiserver.ts) show what the hosts' kubelets and kubeadm did.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FakeWorkloads } from './fake-apiserver-workloads.js';

export interface SshNode { name: string; address: string; /** The boot layer its root is made of (a copy of BootResult.layer). */ layer: string }

export interface SshNodes {
  /** The ssh_config for --ssh-config. */
  config: string;
  /** A file of a host's root, as it is now (undefined when missing). */
  read(name: string, path: string): string | undefined;
  /** The shared cluster record. */
  clusterState(): { etcd: { name: string; peer: string }[]; tokens: string[]; nodes: Record<string, unknown> };
  setClusterState(state: unknown): void;
  /** Starts one more host (or one again, on another layer). */
  start(node: SshNode): Promise<void>;
  stop(name: string): Promise<void>;
  /** sshd's output for a host (its log, -e), for failure messages. */
  log(name: string): string;
  close(): Promise<void>;
}

const INNER = `set -eu
layer=$1 t=$2 port=$3 name=$4 shared=$5 keys=$6 user=$7
mount -t tmpfs tmpfs "$t"
cp -a "$layer" "$t/l"
mkdir -p "$t/u" "$t/w" "$t/m"
mount -t overlay overlay -o "lowerdir=$t/l:/,upperdir=$t/u,workdir=$t/w" "$t/m"
root=$t/m
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/run/sshd" "$root/standin/shared" "$root/etc/kubebake-test-ssh"
mount --bind "$shared" "$root/standin/shared"
cp "$keys/host_ed25519" "$root/etc/kubebake-test-ssh/host_ed25519"
chmod 0600 "$root/etc/kubebake-test-ssh/host_ed25519"
cat > "$root/etc/kubebake-test-ssh/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey /etc/kubebake-test-ssh/host_ed25519
PidFile none
UsePAM yes
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowUsers $user
LogLevel VERBOSE
EOF
hostname "$name"
exec chroot "$root" /usr/sbin/sshd -D -e -f /etc/kubebake-test-ssh/sshd_config
`;

/** A TCP port of 127.0.0.1 nothing listens on now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts sshd for each node; `work` holds the keys, the ssh_config and the shared record. */
export async function startSshNodes(work: string, user: string, clientKey: string, nodes: SshNode[], clusterState: unknown): Promise<SshNodes> {
  const keys = join(work, 'ssh-keys');
  const shared = join(work, 'shared');
  mkdirSync(keys, { recursive: true });
  mkdirSync(shared, { recursive: true });
  if (!existsSync(join(keys, 'host_ed25519'))) {
    const k = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'stand-in host', '-f', join(keys, 'host_ed25519')], { encoding: 'utf8' });
    if (k.status !== 0) throw new Error(`ssh-keygen: ${k.stderr}`);
  }
  const hostKey = readFileSync(join(keys, 'host_ed25519.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const stateFile = join(shared, 'cluster-state.json');
  writeFileSync(stateFile, JSON.stringify(clusterState));
  const running = new Map<string, { child: ChildProcess; port: number; log: string[] }>();
  const config = join(work, 'ssh_config');
  const known = join(work, 'known_hosts');
  const writeConfig = (): void => {
    const entries = [...running].map(([name, r]) => {
      const address = addresses.get(name)!;
      return `Host ${address}\n  HostName 127.0.0.1\n  Port ${r.port}\n  HostKeyAlias ${name}\n`;
    });
    writeFileSync(config, `${entries.join('')}Host *\n  IdentityFile ${clientKey}\n  IdentitiesOnly yes\n  UserKnownHostsFile ${known}\n  StrictHostKeyChecking yes\n`);
    writeFileSync(known, [...running.keys()].map((name) => `${name} ${hostKey}\n`).join(''));
  };
  const addresses = new Map<string, string>();

  const rootPid = (name: string): number => {
    const r = running.get(name);
    if (!r) throw new Error(`${name} is not running`);
    const child = spawnSync('pgrep', ['-P', String(r.child.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
    return Number(child);
  };

  const start = async (node: SshNode): Promise<void> => {
    await stop(node.name);
    const port = await freePort();
    const t = join(work, `root-${node.name}-${port}`);
    mkdirSync(t, { recursive: true });
    const log: string[] = [];
    // --kill-child: when unshare dies, sshd (its child) goes too, and the mounts with the namespace.
    const child = spawn('unshare', ['--mount', '--uts', '--fork', '--kill-child', 'bash', '-c', INNER, 'inner', node.layer, t, String(port), node.name, shared, keys, user], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d));
    running.set(node.name, { child, port, log });
    addresses.set(node.name, node.address);
    // Ready when sshd listens.
    for (let i = 0; i < 100; i++) {
      if (log.join('').includes('Server listening')) break;
      if (child.exitCode !== null) throw new Error(`sshd for ${node.name} ended: ${log.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!log.join('').includes('Server listening')) throw new Error(`sshd for ${node.name} did not start: ${log.join('')}`);
    writeConfig();
  };

  const stop = async (name: string): Promise<void> => {
    const r = running.get(name);
    if (!r) return;
    running.delete(name);
    if (r.child.exitCode === null) {
      const ended = new Promise((res) => r.child.once('close', res));
      // unshare --fork outlives SIGTERM while it waits for its child (util-linux 2.38, as tried here);
      // SIGKILL ends it, and --kill-child's death signal (SIGKILL) ends sshd with it.
      r.child.kill('SIGKILL');
      await ended;
    }
    writeConfig();
  };

  // A test process that ends without close() (a failed hook, an exception) takes the hosts with it.
  const killAll = (): void => {
    for (const r of running.values()) r.child.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const n of nodes) await start(n);
  return {
    config,
    read: (name, path) => {
      const file = `/proc/${rootPid(name)}/root/${path.replace(/^\//, '')}`;
      return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    },
    clusterState: () => JSON.parse(readFileSync(stateFile, 'utf8')),
    setClusterState: (state) => writeFileSync(stateFile, JSON.stringify(state)),
    start,
    stop,
    log: (name) => running.get(name)?.log.join('') ?? '',
    close: async () => {
      process.off('exit', killAll);
      await Promise.all([...running.keys()].map(stop));
    },
  };
}

/**
 * Makes the stand-in API show what the hosts did, read at each request (FakeWorkloads.observe), as
 * a real API learns it from the machines, never on a timer: a host's Node is Ready while its
 * kubelet runs (active, with the config.yaml kubeadm wrote), its kubeletVersion is the version that
 * kubelet registered when it last (re)started (kubeadm_standin.py kubelet_tick: the installed
 * kubelet package's), its control-plane mirror pods show the version of the static pod manifests
 * the kubelet runs, and kube-system/kubeadm-config says what kubeadm's upload-config last wrote in
 * the shared cluster record. Hosts not running are left as they were.
 */
export function followNodes(w: FakeWorkloads, nodes: SshNodes, names: string[]): void {
  w.observe = () => {
    const state = nodes.clusterState() as { version?: string; nodes: Record<string, { version?: string }> };
    if (state.version) w.setClusterVersion(state.version);
    for (const name of names) {
      const node = w.nodes.get(name);
      let active: string | undefined;
      try {
        active = nodes.read(name, '/standin/active');
      } catch {
        continue;
      }
      if (!node) continue;
      node.ready = (active ?? '').split('\n').includes('kubelet') && nodes.read(name, '/var/lib/kubelet/config.yaml') !== undefined;
      const registered = state.nodes[name]?.version;
      if (registered) node.kubeletVersion = `v${registered.replace(/^v/, '')}`;
      for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) {
        const pod = w.pods.get(`kube-system/${c}-${name}`);
        const version = /, version (v[0-9.]+)/.exec(nodes.read(name, `/etc/kubernetes/manifests/${c}.yaml`) ?? '')?.[1];
        if (pod && version) pod.image = `registry.k8s.io/${c}:${version}`;
      }
    }
  };
}
