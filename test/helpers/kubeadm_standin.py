#!/usr/bin/python3
# STAND-IN for kubeadm, and for the part of the kubelet that kubeadm waits for, used by the sandbox
# (test/helpers/sandbox.ts). It is not kubeadm. It acts out what kubeadm leaves on a host and in its
# cluster, phase by phase, in upstream's order, so that a power loss after any phase leaves what the
# real one would, and a second run fails where the real one fails.
#
# Sources: kubernetes/kubernetes, cmd/kubeadm/app/… (its repository is too large to fetch here; read
# in the newest copies the search tools had: the v1beta4-era files of the dims/kubernetes fork,
# cmd/join.go at b894919 and preflight/checks.go at 2263410; util/etcd/etcd.go addMember and
# cmd/phases/reset/*.go from indexed copies of the same tree), and the generated reference pages
# of kubernetes/website, content/en/docs/reference/setup-tools/kubeadm/generated/kubeadm_init/
# _index.md (0637786) and kubeadm_join/_index.md (20067f1), which list the phases as the newest
# kubeadm prints them, with ControlPlaneKubeletLocalMode default=true (Kubernetes 1.35 and later;
# kubebake's default profile is 1.37):
# - the phases and their order: cmd/init.go newCmdInit, cmd/join.go newCmdJoin (check-etcd is a
#   hidden join phase); --skip-phases names top-level phases.
# - preflight: preflight/checks.go InitNodeChecks, JoinNodeChecks, addCommonChecks (FileAvailable-…,
#   DirAvailable-…, Port-… names; RunChecks turns an error into a warning when its name, lower-case,
#   or "all" is in --ignore-preflight-errors); cmd/phases/join/preflight.go (a control-plane join
#   also runs the init checks, and needs the shared certificates without a certificate key).
# - certs and kubeconfig phases reuse files already there (a certificate must be signed by the CA
#   on disk; a kubeconfig must name the same server and CA); static pod manifests are rewritten.
# - join kubelet-start: cmd/phases/join/kubelet.go (refuses when a Ready Node of that name exists;
#   writes bootstrap-kubelet.conf and, when missing, the CA; with ControlPlaneKubeletLocalMode a
#   control plane's kubelet bootstraps against its own API server; kubelet-wait-bootstrap waits for
#   kubelet.conf and then removes bootstrap-kubelet.conf).
# - etcd member add is idempotent: util/etcd/etcd.go addMember returns the members when the peer
#   URL is already one of them.
# - upload-config, bootstrap-token, mark-control-plane and the addons create or update API objects.
# - reset: cmd/phases/reset/removeetcdmember.go and phases/etcd/local.go
#   RemoveStackedEtcdMemberFromCluster (a control plane's member is removed from the etcd cluster,
#   then its data directory emptied; the only remaining member is not removed: its data goes),
#   cleanupnode.go (kubelet stopped; the manifests, /var/lib/kubelet and the certificate directory
#   emptied; admin, super-admin, kubelet, bootstrap-kubelet, controller-manager and scheduler
#   kubeconfigs deleted). Reset removes no Node object.
#
# Before any phase, it decodes every --config document strictly against the field tables of its API
# version (src/verify/kubeadm-fields.ts, from kubeadm's types.go), so an unknown or misspelled field,
# or a value of the wrong type, fails as kubeadm's strict decoding fails; YAML is read as YAML 1.1
# (PyYAML), as kubeadm's go-yaml does. A join's discovery is checked against its cluster (the test
# gives it from the init host's boot): a wrong token, CA pin or endpoint fails as discovery would.
#
# State: the host's files, as kubeadm and the kubelet leave them; the cluster's side (API objects,
# Nodes, etcd members) in /standin/cluster-state.json, a record a later boot of the same host sees;
# /standin/cluster.json, once the bootstrap token exists, what joining nodes need (token, CA hash,
# endpoint). The kubelet runs when systemd has it active and its config.yaml exists; it then runs
# the static pods of /etc/kubernetes/manifests and does its TLS bootstrap.
#
# Power loss: /standin/poweroff-after-<init|join>-<phase> makes this stand-in cut the power right
# after that phase (see poweroff below).
#
# usage: kubeadm_standin.py init|join [--config F] [--skip-phases=a,b] [--ignore-preflight-errors=x,y]
#        kubeadm_standin.py reset [--force]
#        kubeadm_standin.py kubelet-boot      (the kubelet as systemd starts it at boot)
#        kubeadm_standin.py poweroff WHY      (the power goes, now)
#        kubeadm_standin.py upgrade apply vX [-y] [--force] | upgrade node   (see "upgrades" below)
#        kubeadm_standin.py cluster-configuration KUBECONFIG  (what kubectl reads from kube-system/kubeadm-config)
#        kubeadm_standin.py crictl ps|exec …  (crictl's view of the static pods' containers; etcdctl in etcd's)
#
# Upgrades: the cluster's version is its ClusterConfiguration's kubernetesVersion (kubeadm-config,
# written by init and by upgrade apply's upload-config phase); each static pod manifest names the
# version it runs; each Node records the kubelet's version (the installed kubelet package's, read
# with dpkg-query, as `kubelet --version` answers) when the kubelet registers or is restarted.
# Sources: kubernetes/kubernetes cmd/kubeadm/app/phases/upgrade/policy.go (EnforceVersionPolicies
# @ 8b56eb8588263556c279c60eb3a0783f663869f3; the kubelet skew raised to 3 by pull request #120825,
# kubeadm v1.29), cmd/kubeadm/app/cmd/phases/upgrade/apply/preflight.go (@ a2f8d31c6541: the version
# policies run in apply's preflight; mandatory errors always fail, skippable ones without --force),
# cmd/kubeadm/app/cmd/upgrade/node.go (@ 803d40a57714: a control plane is a node with the
# kube-apiserver manifest; the client is admin.conf there, kubelet.conf elsewhere; the version comes
# from the cluster's ClusterConfiguration, FetchInitConfigurationFromCluster, whose
# NormalizeKubernetesVersion refuses a control plane older than kubeadm's minor - 1: "this version of
# kubeadm only supports deploying clusters with the control plane version >= ..."), and
# kubernetes/website .../kubeadm/kubeadm-upgrade.md ("Pick a control plane node ... It must have the
# /etc/kubernetes/admin.conf file"; upgrade node "Fetches the kubeadm ClusterConfiguration from the
# cluster ... Upgrades the static Pod manifests"). So `upgrade apply` fails on a worker (no
# admin.conf), skipping a minor and too old kubelets fail its preflight, and `upgrade node` before
# the first control plane's apply leaves the control plane at the cluster's (old) version.
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys

import yaml

FIELDS = '/standin/kubeadm-fields.json'
GIVEN = '/standin/cluster-given.json'
# Hosts that share one cluster record (test/helpers/ssh-nodes.ts mounts the same folder into each)
# keep it in /standin/shared; a lone host keeps its own.
STATE = '/standin/shared/cluster-state.json' if os.path.isdir('/standin/shared') else '/standin/cluster-state.json'
RECORD = '/standin/cluster.json'
ACTIVE = '/standin/active'
K = '/etc/kubernetes'
PKI = f'{K}/pki'
MANIFESTS = f'{K}/manifests'
KUBELET_DIR = '/var/lib/kubelet'
KUBELET_CONFIG = f'{KUBELET_DIR}/config.yaml'
KUBELET_PEM = f'{KUBELET_DIR}/pki/kubelet-client-current.pem'
KUBELET_CONF = f'{K}/kubelet.conf'
BOOTSTRAP_CONF = f'{K}/bootstrap-kubelet.conf'

INIT_PHASES = ['preflight', 'certs', 'kubeconfig', 'etcd', 'control-plane', 'kubelet-start', 'wait-control-plane',
               'upload-config', 'upload-certs', 'mark-control-plane', 'bootstrap-token', 'kubelet-finalize', 'addon',
               'show-join-command']
JOIN_PHASES = ['preflight', 'control-plane-prepare', 'check-etcd', 'kubelet-start', 'etcd-join', 'kubelet-wait-bootstrap',
               'control-plane-join', 'wait-control-plane']

# The control-plane certificates kubeadm makes (certs phase), each with the CA that signs it.
CAS = ['ca', 'front-proxy-ca', 'etcd/ca']
LEAVES = {'apiserver': 'ca', 'apiserver-kubelet-client': 'ca', 'front-proxy-client': 'front-proxy-ca',
          'etcd/server': 'etcd/ca', 'etcd/peer': 'etcd/ca', 'etcd/healthcheck-client': 'etcd/ca',
          'apiserver-etcd-client': 'etcd/ca'}
# Static pods and the ports their containers listen on (kubeadm's constants: scheduler 10259,
# controller-manager 10257, etcd 2379/2380; the API server on its bindPort).
POD_PORTS = {'kube-apiserver': [6443], 'kube-controller-manager': [10257], 'kube-scheduler': [10259], 'etcd': [2379, 2380]}
KUBELET_PORT = 10250
# cleanupnode.go resetConfigDir's files.
RESET_KUBECONFIGS = ['admin.conf', 'super-admin.conf', 'kubelet.conf', 'bootstrap-kubelet.conf', 'controller-manager.conf', 'scheduler.conf']

DURATION = re.compile(r'^-?(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$')


class Fail(Exception):
    pass


def fail(msg):
    raise Fail(msg)


# --- strict decoding of --config (as before: kubeadm's field tables) ---

def check(value, typ, path, structs):
    if typ == 'any':
        return
    if typ.startswith('[]'):
        if not isinstance(value, list):
            fail(f'json: cannot unmarshal {kind_of(value)} into Go struct field {path} of type {typ}')
        for i, v in enumerate(value):
            check(v, typ[2:], f'{path}[{i}]', structs)
        return
    if typ.startswith('map[string]'):
        if not isinstance(value, dict):
            fail(f'json: cannot unmarshal {kind_of(value)} into Go struct field {path} of type {typ}')
        for k, v in value.items():
            if not isinstance(k, str):
                fail(f'json: cannot unmarshal {kind_of(k)} map key into Go struct field {path} of type string')
            check(v, typ[len('map[string]'):], f'{path}.{k}', structs)
        return
    if typ in ('string', 'time'):
        if not isinstance(value, str):
            fail(f'json: cannot unmarshal {kind_of(value)} into Go struct field {path} of type string')
        return
    if typ == 'duration':
        if not isinstance(value, str) or not DURATION.match(value):
            fail(f'{path}: time: invalid duration {json.dumps(value)}')
        return
    if typ == 'bool':
        if not isinstance(value, bool):
            fail(f'json: cannot unmarshal {kind_of(value)} into Go struct field {path} of type bool')
        return
    if typ == 'int':
        if isinstance(value, bool) or not isinstance(value, int):
            fail(f'json: cannot unmarshal {kind_of(value)} into Go struct field {path} of type int32')
        return
    fields = structs[typ]
    if not isinstance(value, dict):
        fail(f'json: cannot unmarshal {kind_of(value)} into Go struct field {path} of type {typ}')
    for k, v in value.items():
        if k not in fields:
            fail(f'strict decoding error: unknown field "{path}.{k}"' if path else f'strict decoding error: unknown field "{k}"')
        if v is None:
            continue
        check(v, fields[k], f'{path}.{k}' if path else k, structs)


def kind_of(v):
    if isinstance(v, bool):
        return 'bool'
    if isinstance(v, (int, float)):
        return 'number'
    if isinstance(v, str):
        return 'string'
    if isinstance(v, list):
        return 'array'
    if isinstance(v, dict):
        return 'object'
    return 'null'


def read_config(path):
    tables = json.load(open(FIELDS))['versions']
    try:
        docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        fail(f'could not read {path}: {e}')
    seen = {}
    for d in docs:
        if not isinstance(d, dict) or 'apiVersion' not in d or 'kind' not in d:
            fail(f'{path}: a document without apiVersion and kind')
        api, kind = d['apiVersion'], d['kind']
        if api.startswith('kubeadm.k8s.io/'):
            if api not in tables or kind not in tables[api]['kinds']:
                fail(f'no kind "{kind}" is registered for version "{api}"')
            body = {k: v for k, v in d.items() if k not in ('apiVersion', 'kind')}
            check(body, kind, '', tables[api]['structs'])
        # Other groups (KubeletConfiguration, KubeProxyConfiguration) are not checked by this stand-in.
        seen[kind] = d
    return seen


# --- files, as kubeadm writes them (contents are stand-ins, deterministic) ---

def write(path, content, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(content)
    os.chmod(path, mode)


def read(path):
    try:
        return open(path).read()
    except OSError:
        return None


def fingerprint(path):
    content = read(path)
    return hashlib.sha256((content or '').encode()).hexdigest()[:16]


def ca_hash(path):
    """kubeadm's discovery hash of a CA: sha256 of its public key (a stand-in CA: of its text)."""
    r = subprocess.run(['sh', '-c', f'openssl x509 -pubkey -noout -in {path} | openssl pkey -pubin -outform DER | sha256sum'],
                       capture_output=True, text=True)
    if r.returncode == 0 and 'e3b0c44298fc1c149afbf4c8996fb924' not in r.stdout:
        return f'sha256:{r.stdout.split()[0]}'
    return f'sha256:{hashlib.sha256((read(path) or "").encode()).hexdigest()}'


def kubeconfig(server, user, client):
    return f'# stand-in kubeconfig\nserver: https://{server}\ncertificate-authority: {fingerprint(f"{PKI}/ca.crt")}\nuser: {user}\nclient-certificate: {client}\n'


def kubeconfig_field(path, field):
    for line in (read(path) or '').splitlines():
        if line.startswith(f'{field}: '):
            return line[len(field) + 2:]
    return None


def write_kubeconfig(name, server, user):
    """createKubeConfigFileIfNotExists: an existing file is kept when it has the same CA and server."""
    path = f'{K}/{name}'
    want = kubeconfig(server, user, 'embedded')
    if os.path.exists(path):
        for field in ('server', 'certificate-authority'):
            have, expected = kubeconfig_field(path, field), kubeconfig_field_of(want, field)
            if have != expected:
                fail(f'a kubeconfig file "{path}" exists already but has an unexpected {field}: expected: {expected}, got: {have}')
        print(f'[kubeconfig] Using existing kubeconfig file: "{path}"')
        return
    write(path, want, 0o600)


def kubeconfig_field_of(text, field):
    return next((line[len(field) + 2:] for line in text.splitlines() if line.startswith(f'{field}: ')), None)


def ensure_ca(name, node, create):
    crt, key = f'{PKI}/{name}.crt', f'{PKI}/{name}.key'
    if os.path.exists(crt) and os.path.exists(key):
        return
    if not create:
        fail(f'couldn\'t load the certificate authority {name} from {PKI}: shared certificates are missing (no certificateKey to download them)')
    # No CA on disk: kubeadm makes its own, a different cluster identity than the shipped one.
    write(crt, f'stand-in self-signed CA {name} made by kubeadm on {node}\n')
    write(key, f'stand-in key of CA {name} made by kubeadm on {node}\n', 0o600)


def ensure_leaf(name, ca, node):
    crt, key = f'{PKI}/{name}.crt', f'{PKI}/{name}.key'
    signed = f'signed by {ca} {fingerprint(f"{PKI}/{ca}.crt")}'
    if os.path.exists(crt):
        if signed not in (read(crt) or ''):
            fail(f'certificate {name} is not signed by corresponding CA')
        print(f'[certs] Using the existing "{name}" certificate and key')
        return
    write(crt, f'stand-in certificate {name} for {node}, {signed}\n')
    write(key, f'stand-in key {name} for {node}\n', 0o600)


def manifest(component, node, detail='', version=None):
    ran = f', version {version}' if version else ''
    write(f'{MANIFESTS}/{component}.yaml', f'# stand-in static pod {component} of {node}{ran}{detail}\n', 0o600)


def package_version(name):
    """The installed package's upstream version (dpkg-query, the real one or the stand-in), or the sandbox's."""
    r = subprocess.run(['dpkg-query', '-W', '-f', '${Version}', name], capture_output=True, text=True)
    v = r.stdout.strip() if r.returncode == 0 else ''
    return (v.split(':')[-1].split('-')[0] if v else (read('/standin/kubernetes-version') or '').strip())


def manifest_version(component):
    m = re.search(r', version (v[0-9.]+)', read(f'{MANIFESTS}/{component}.yaml') or '')
    return m.group(1) if m else None


# --- the cluster's side ---

def load_state():
    if os.path.exists(STATE):
        return json.load(open(STATE))
    try:
        given = json.load(open(GIVEN))
    except OSError:
        return None
    if 'state' in given:
        return given['state']
    # Only the init record was given (tests that do not follow the cluster's objects): a cluster
    # whose init completed on a node this sandbox does not know.
    return {'home': '(init node)', 'endpoint': given['endpoint'], 'etcd': [{'name': '(init node)', 'peer': '(init node)'}],
            'objects': {o: 'stand-in' for o in ['ConfigMap/kube-public/cluster-info', 'ConfigMap/kube-system/kubeadm-config',
                                                 'ConfigMap/kube-system/kubelet-config']},
            'tokens': given['tokens'], 'nodes': {}}


def save_state(state):
    with open(STATE + '.tmp', 'w') as f:
        json.dump(state, f, indent=1, sort_keys=True)
    os.replace(STATE + '.tmp', STATE)


def active():
    return (read(ACTIVE) or '').split()


def set_active(unit, on):
    units = [u for u in active() if u != unit] + ([unit] if on else [])
    write(ACTIVE, ''.join(f'{u}\n' for u in units))


def kubelet_running():
    # The kubelet exits without its config.yaml (systemd restarts it, in vain, until kubelet-start writes it).
    return 'kubelet' in active() and os.path.exists(KUBELET_CONFIG)


def pods():
    if not kubelet_running():
        return []
    return sorted(c for c in POD_PORTS if os.path.exists(f'{MANIFESTS}/{c}.yaml'))


def local_api_up(state, name):
    return (state is not None and {'kube-apiserver', 'etcd'} <= set(pods())
            and any(m['name'] == name for m in state.get('etcd', [])))


def api_up(state, server, name):
    """Whether the API server at https://<server> answers: this host's own, or the cluster's through the load balancer."""
    if state is None:
        return False
    if server == state.get('endpoint') and state.get('home') != name:
        return True
    return local_api_up(state, name)


def kubelet_tick(name):
    """What a running kubelet does: runs the static pods (etcd writes its data), its TLS bootstrap, registers its Node."""
    if not kubelet_running():
        return
    state = load_state()
    if 'etcd' in pods():
        os.makedirs('/var/lib/etcd/member', mode=0o700, exist_ok=True)
        write('/var/lib/etcd/member/stand-in', 'etcd data of this member\n', 0o600)
    if os.path.exists(BOOTSTRAP_CONF) and not os.path.exists(KUBELET_CONF):
        server = (kubeconfig_field(BOOTSTRAP_CONF, 'server') or '').removeprefix('https://')
        if api_up(state, server, name):
            write(KUBELET_PEM, f'stand-in kubelet client certificate of {name}\n', 0o600)
            write(KUBELET_CONF, kubeconfig(server, f'system:node:{name}', KUBELET_PEM), 0o600)
    if os.path.exists(KUBELET_CONF) and state is not None:
        server = (kubeconfig_field(KUBELET_CONF, 'server') or '').removeprefix('https://')
        if api_up(state, server, name):
            # With rotateCertificates the kubelet keeps its client certificate here (kubelet-finalize points kubelet.conf at it).
            if not os.path.exists(KUBELET_PEM):
                write(KUBELET_PEM, f'stand-in kubelet client certificate of {name}\n', 0o600)
            if name not in state['nodes']:
                state['nodes'][name] = {'labels': [], 'taints': []}
                save_state(state)
            version = package_version('kubelet')
            if state['nodes'][name].get('version') != version:
                state['nodes'][name]['version'] = version
                save_state(state)


def start_kubelet(name):
    set_active('kubelet', True)
    kubelet_tick(name)


def ports_in_use():
    used = {KUBELET_PORT} if kubelet_running() else set()
    for c in pods():
        used.update(POD_PORTS[c])
    return used


def run_checks(checks, ignored):
    """preflight RunChecks: every failing check is reported; an ignored one only warns."""
    errors = []
    for name, error in checks:
        if error is None:
            continue
        if 'all' in ignored or name.lower() in ignored:
            print(f'\t[WARNING {name}]: {error}', file=sys.stderr)
        else:
            errors.append(f'\t[ERROR {name}]: {error}\n')
    if errors:
        fail('[preflight] Some fatal errors occurred:\n' + ''.join(errors) +
             '[preflight] If you know what you are doing, you can make a check non-fatal with `--ignore-preflight-errors=...`\n'
             'preflight checks failed')


def file_available(path):
    return (f'FileAvailable-{path.replace("/", "-")}', f'{path} already exists' if os.path.exists(path) else None)


def dir_available(path):
    busy = os.path.isdir(path) and os.listdir(path)
    return (f'DirAvailable-{path.replace("/", "-")}', f'{path} is not empty' if busy else None)


def port_open(port, used):
    return (f'Port-{port}', f'Port {port} is in use' if port in used else None)


def init_node_checks(bind_port, etcd_dir, secondary):
    used = ports_in_use()
    checks = [port_open(bind_port, used), port_open(10259, used), port_open(10257, used)]
    checks += [file_available(f'{MANIFESTS}/{c}.yaml') for c in ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']]
    if not secondary:
        checks.append(port_open(KUBELET_PORT, used))
    checks += [port_open(2379, used), port_open(2380, used), dir_available(etcd_dir)]
    return checks


# --- the commands ---

def parse(args):
    opts = {'config': None, 'skip': set(), 'ignore': set(), 'force': False}
    it = iter(args)
    for a in it:
        key, eq, value = a.partition('=')
        if key in ('--config', '--skip-phases', '--ignore-preflight-errors') and not eq:
            value = next(it, '')
        if key == '--config':
            opts['config'] = value
        elif key == '--skip-phases':
            opts['skip'] |= set(filter(None, value.split(',')))
        elif key == '--ignore-preflight-errors':
            opts['ignore'] |= {v.lower() for v in value.split(',') if v}
        elif key == '--force':
            opts['force'] = True
    return opts


def poweroff_marker(command, phase):
    return f'/standin/poweroff-after-{command}-{phase}'


def poweroff(why):
    """A power loss: every process of this machine dies at once, without cleanup (SIGKILL); what the
    disk has is what the next boot finds. The machine is this process's session: the boot under
    cloud-init, or a unit started by REBOOT (setsid), not the test's loop that reboots it."""
    with open('/standin/poweroffs', 'a') as f:
        f.write(f'{why}\n')
    sys.stdout.flush()
    sys.stderr.flush()
    me, session = os.getpid(), os.getsid(0)
    for pid in (int(p) for p in os.listdir('/proc') if p.isdigit()):
        try:
            if pid not in (1, me) and os.getsid(pid) == session:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    os._exit(137)


def run_phases(command, phases, skip):
    for name, run in phases:
        if name in skip:
            print(f'[{name}] Skipping phase (--skip-phases)')
            continue
        try:
            run()
        except Fail as e:
            fail(f'error execution phase {name}: {e}')
        marker = poweroff_marker(command, name)
        if os.path.exists(marker):
            os.remove(marker)
            poweroff(f'after {command} phase {name}')


def init(opts):
    docs = read_config(opts['config'])
    ic, cc = docs.get('InitConfiguration', {}), docs.get('ClusterConfiguration', {})
    node = ic.get('nodeRegistration', {}).get('name') or socket.gethostname()
    local = ic.get('localAPIEndpoint', {})
    address, bind_port = local.get('advertiseAddress', ''), local.get('bindPort', 6443)
    local_ep, endpoint = f'{address}:{bind_port}', cc.get('controlPlaneEndpoint') or f'{address}:{bind_port}'
    etcd_dir = cc.get('etcd', {}).get('local', {}).get('dataDir', '/var/lib/etcd')
    tokens = [t['token'] for t in ic.get('bootstrapTokens', [])]

    def preflight():
        run_checks(init_node_checks(bind_port, etcd_dir, secondary=False), opts['ignore'])

    def certs():
        for ca in CAS:
            ensure_ca(ca, node, create=True)
        for leaf, ca in LEAVES.items():
            ensure_leaf(leaf, ca, node)
        if not (os.path.exists(f'{PKI}/sa.key') and os.path.exists(f'{PKI}/sa.pub')):
            write(f'{PKI}/sa.key', f'stand-in service account key made on {node}\n', 0o600)
            write(f'{PKI}/sa.pub', f'stand-in service account public key made on {node}\n')

    def kubeconfigs():
        write_kubeconfig('admin.conf', endpoint, 'kubernetes-admin')
        write_kubeconfig('super-admin.conf', endpoint, 'kubernetes-super-admin')
        write_kubeconfig('kubelet.conf', local_ep, f'system:node:{node}')
        write_kubeconfig('controller-manager.conf', local_ep, 'system:kube-controller-manager')
        write_kubeconfig('scheduler.conf', local_ep, 'system:kube-scheduler')

    def etcd():
        os.makedirs(etcd_dir, mode=0o700, exist_ok=True)
        manifest('etcd', node, f': initial-cluster {node}=https://{address}:2380, data-dir {etcd_dir}', cc.get('kubernetesVersion'))
        state = load_state() or {'home': node, 'endpoint': endpoint, 'etcd': [], 'objects': {}, 'tokens': [], 'nodes': {}}
        state.setdefault('version', cc.get('kubernetesVersion'))
        if not any(m['name'] == node for m in state['etcd']):
            state['etcd'].append({'name': node, 'peer': f'https://{address}:2380'})
        save_state(state)

    def control_plane():
        for c in ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']:
            manifest(c, node, version=cc.get('kubernetesVersion'))

    def kubelet_start():
        set_active('kubelet', False)
        write(KUBELET_CONFIG, f'# stand-in KubeletConfiguration written by kubeadm for {node}\n')
        write(f'{KUBELET_DIR}/kubeadm-flags.env', 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/crio/crio.sock"\n')
        write(f'{KUBELET_DIR}/instance-config.yaml', f'# stand-in instance config of {node}\n')
        start_kubelet(node)

    def api():
        kubelet_tick(node)
        state = load_state()
        if not local_api_up(state, node):
            fail('waiting for the API server: context deadline exceeded (the kubelet or the control plane is not running)')
        return state

    def objects(*names):
        state = api()
        for n in names:
            state['objects'][n] = 'stand-in'
        save_state(state)
        return state

    def upload_config():
        objects('ConfigMap/kube-system/kubeadm-config', 'ConfigMap/kube-system/kubelet-config',
                'Role/kube-system/kubeadm:nodes-kubeadm-config', 'Role/kube-system/kubeadm:kubelet-config')

    def upload_certs():
        print('[upload-certs] Skipping phase. Please see --upload-certs')

    def mark_control_plane():
        state = api()
        if node not in state['nodes']:
            fail(f'timed out waiting for the Node "{node}" to register')
        state['nodes'][node].update({'labels': ['node-role.kubernetes.io/control-plane=', 'node.kubernetes.io/exclude-from-external-load-balancers='],
                                     'taints': ['node-role.kubernetes.io/control-plane:NoSchedule']})
        save_state(state)

    def bootstrap_token():
        state = objects('ConfigMap/kube-public/cluster-info', 'ClusterRole/kubeadm:get-nodes',
                        'ClusterRoleBinding/kubeadm:kubelet-bootstrap', 'ClusterRoleBinding/kubeadm:node-autoapprove-bootstrap',
                        'ClusterRoleBinding/kubeadm:node-autoapprove-certificate-rotation',
                        *[f'Secret/kube-system/bootstrap-token-{t.split(".")[0]}' for t in tokens])
        state['tokens'] = sorted(set(state['tokens']) | set(tokens))
        save_state(state)
        record = {'tokens': tokens, 'caCertHash': ca_hash(f'{PKI}/ca.crt'), 'endpoint': endpoint}
        with open(RECORD, 'w') as f:
            json.dump(record, f)

    def kubelet_finalize():
        api()
        if os.path.exists(KUBELET_PEM):
            write(KUBELET_CONF, kubeconfig(local_ep, f'system:node:{node}', KUBELET_PEM), 0o600)

    def addon():
        objects('Deployment/kube-system/coredns', 'Service/kube-system/kube-dns', 'ConfigMap/kube-system/coredns',
                'DaemonSet/kube-system/kube-proxy', 'ConfigMap/kube-system/kube-proxy')

    def show_join_command():
        print(f'You can now join any number of machines: kubeadm join {endpoint} --token …')

    run_phases('init', list(zip(INIT_PHASES, [preflight, certs, kubeconfigs, etcd, control_plane, kubelet_start, api,
                                              upload_config, upload_certs, mark_control_plane, bootstrap_token,
                                              kubelet_finalize, addon, show_join_command])), opts['skip'])


def discover(join_cfg):
    bt = join_cfg.get('discovery', {}).get('bootstrapToken') or {}
    where = f'Get "https://{bt.get("apiServerEndpoint")}/api/v1/namespaces/kube-public/configmaps/cluster-info"'
    try:
        facts = json.load(open(GIVEN))
    except OSError:
        fail(f'couldn\'t validate the identity of the API Server: {where}: no cluster there (the test gave no init record)')
    state = load_state()
    if bt.get('apiServerEndpoint') != facts['endpoint']:
        fail(f'couldn\'t validate the identity of the API Server: {bt.get("apiServerEndpoint")} is not the cluster\'s endpoint {facts["endpoint"]}')
    if 'ConfigMap/kube-public/cluster-info' not in state['objects']:
        fail(f'couldn\'t validate the identity of the API Server: {where}: configmaps "cluster-info" not found')
    if bt.get('token') not in facts['tokens'] or bt.get('token') not in state['tokens']:
        fail('couldn\'t validate the identity of the API Server: the token is not a bootstrap token of this cluster')
    if facts['caCertHash'] not in bt.get('caCertHashes', []):
        fail(f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "{facts["caCertHash"]}" are pinned')
    return facts


def join(opts):
    docs = read_config(opts['config'])
    jc = docs.get('JoinConfiguration')
    if jc is None:
        fail(f'{opts["config"]} has no JoinConfiguration')
    node = jc.get('nodeRegistration', {}).get('name') or socket.gethostname()
    cp = jc.get('controlPlane')
    local = (cp or {}).get('localAPIEndpoint', {})
    address, bind_port = local.get('advertiseAddress', ''), local.get('bindPort', 6443)
    local_ep = f'{address}:{bind_port}'
    ca_path = jc.get('caCertPath', f'{PKI}/ca.crt')
    facts = discover(jc)
    endpoint = facts['endpoint']

    def preflight():
        checks = [file_available(KUBELET_CONF), file_available(BOOTSTRAP_CONF), port_open(KUBELET_PORT, ports_in_use())]
        if cp is None:
            checks.append(file_available(ca_path))
        run_checks(checks, opts['ignore'])
        if cp is not None:
            for ca in CAS:
                ensure_ca(ca, node, create=False)
            run_checks(init_node_checks(bind_port, '/var/lib/etcd', secondary=True), opts['ignore'])

    def control_plane_prepare():
        if cp is None:
            return
        for ca in CAS:
            ensure_ca(ca, node, create=False)
        for leaf, ca in LEAVES.items():
            ensure_leaf(leaf, ca, node)
        write_kubeconfig('admin.conf', endpoint, 'kubernetes-admin')
        write_kubeconfig('controller-manager.conf', local_ep, 'system:kube-controller-manager')
        write_kubeconfig('scheduler.conf', local_ep, 'system:kube-scheduler')
        for c in ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler']:
            manifest(c, node, version=(load_state() or {}).get('version'))

    def check_etcd():
        pass

    def kubelet_start():
        state = load_state()
        if node in state['nodes'] and kubelet_running() and os.path.exists(KUBELET_CONF):
            fail(f'a Node with name "{node}" and status "Ready" already exists in the cluster. '
                 'You must delete the existing Node or change the name of this new joining Node')
        # ControlPlaneKubeletLocalMode: a control plane's kubelet bootstraps against its own API server.
        write(BOOTSTRAP_CONF, kubeconfig(local_ep if cp is not None else endpoint, 'tls-bootstrap-token-user', 'token'), 0o600)
        if not os.path.exists(ca_path):
            write(ca_path, f'stand-in cluster CA from cluster-info ({facts["caCertHash"]})\n')
        set_active('kubelet', False)
        write(KUBELET_CONFIG, f'# stand-in KubeletConfiguration from the kubelet-config ConfigMap, for {node}\n')
        write(f'{KUBELET_DIR}/kubeadm-flags.env', 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/crio/crio.sock"\n')
        write(f'{KUBELET_DIR}/instance-config.yaml', f'# stand-in instance config of {node}\n')
        start_kubelet(node)

    def etcd_join():
        if cp is None:
            return
        state = load_state()
        if not any(m['name'] == node for m in state['etcd']):
            state['etcd'].append({'name': node, 'peer': f'https://{address}:2380'})
            save_state(state)
        members = ','.join(f'{m["name"]}={m["peer"]}' for m in state['etcd'])
        manifest('etcd', node, f': initial-cluster {members}, initial-cluster-state existing', state.get('version'))
        kubelet_tick(node)

    def kubelet_wait_bootstrap():
        kubelet_tick(node)
        if not os.path.exists(KUBELET_CONF):
            fail('timed out waiting for the condition: the kubelet did not write /etc/kubernetes/kubelet.conf (TLS bootstrap)')
        if os.path.exists(BOOTSTRAP_CONF):
            os.remove(BOOTSTRAP_CONF)

    def control_plane_join():
        if cp is None:
            return
        state = load_state()
        if node not in state['nodes']:
            fail(f'timed out waiting for the Node "{node}" to register')
        state['nodes'][node].update({'labels': ['node-role.kubernetes.io/control-plane=', 'node.kubernetes.io/exclude-from-external-load-balancers='],
                                     'taints': ['node-role.kubernetes.io/control-plane:NoSchedule']})
        save_state(state)

    def wait_control_plane():
        if cp is not None and not local_api_up(load_state(), node):
            fail('waiting for the control plane: context deadline exceeded')

    # A join records what it does to its cluster on this host, from the cluster it was given.
    save_state(load_state())
    run_phases('join', list(zip(JOIN_PHASES, [preflight, control_plane_prepare, check_etcd, kubelet_start, etcd_join,
                                              kubelet_wait_bootstrap, control_plane_join, wait_control_plane])), opts['skip'])


def clean_dir(path):
    if not os.path.isdir(path):
        return
    for entry in os.listdir(path):
        p = os.path.join(path, entry)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.remove(p)


def reset(opts):
    if not opts['force']:
        fail('aborted reset operation (no confirmation on stdin; use --force)')
    node = socket.gethostname()
    state = load_state()
    # remove-etcd-member: with a local etcd (its manifest), and the cluster reachable (admin.conf).
    if os.path.exists(f'{MANIFESTS}/etcd.yaml') and state is not None and os.path.exists(f'{K}/admin.conf'):
        members = state.get('etcd', [])
        if any(m['name'] == node for m in members):
            if len(members) == 1:
                # The only member: nothing to remove it from; its data is the cluster, and goes.
                os.remove(STATE)
            else:
                state['etcd'] = [m for m in members if m['name'] != node]
                save_state(state)
        clean_dir('/var/lib/etcd')
    # cleanup-node
    set_active('kubelet', False)
    for d in (MANIFESTS, KUBELET_DIR, PKI):
        clean_dir(d)
    for f in RESET_KUBECONFIGS:
        if os.path.exists(f'{K}/{f}'):
            os.remove(f'{K}/{f}')


# --- upgrades ---

CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']


def vtuple(v):
    return tuple(int(x) for x in v.lstrip('v').split('.'))


def client(kubeconfig_path, node):
    """kubeadm's client from a kubeconfig (getClient): the file must exist, and its server answer."""
    if not os.path.exists(kubeconfig_path):
        fail(f'couldn\'t create a Kubernetes client from file "{kubeconfig_path}": failed to load admin kubeconfig: '
             f'open {kubeconfig_path}: no such file or directory')
    state = load_state()
    server = (kubeconfig_field(kubeconfig_path, 'server') or '').removeprefix('https://')
    kubelet_tick(node)
    if not api_up(state, server, node):
        fail(f'unable to fetch the kubeadm-config ConfigMap: Get "https://{server}/api/v1/namespaces/kube-system/configmaps/kubeadm-config": '
             'connect: connection refused')
    if not state.get('version'):
        fail('unable to fetch the kubeadm-config ConfigMap: configmaps "kubeadm-config" not found')
    return state


def enforce_version_policies(cluster, new, kubeadm, kubelets, force):
    """policy.go EnforceVersionPolicies, with apply's preflight: mandatory errors, then skippable ones unless --force."""
    c, n, k = vtuple(cluster), vtuple(new), vtuple(kubeadm)
    mandatory, skippable = [], []
    # constants.MinimumControlPlaneVersion: kubeadm's minor - 1.
    if n < (k[0], k[1] - 1, 0):
        mandatory.append(f'Specified version to upgrade to "{new}" is equal to or lower than the minimum supported version "{cluster}". Please specify a higher version to upgrade to')
    if n[1] > c[1] + 1:
        mandatory.append(f'Specified version to upgrade to "{new}" is too high; kubeadm can upgrade only 1 minor version at a time')
    if n[1] < c[1] - 1:
        mandatory.append(f'Specified version to downgrade to "{new}" is too low; kubeadm can downgrade only 1 minor version at a time')
    if k < n:
        if n[1] > k[1]:
            mandatory.append(f'Specified version to upgrade to "{new}" is at least one minor release higher than the kubeadm minor release ({n[1]} > {k[1]}). Such an upgrade is not supported')
        else:
            skippable.append(f'Specified version to upgrade to "{new}" is higher than the kubeadm version "v{kubeadm}". Upgrade kubeadm first using the tool you used to install kubeadm')
    if k[0] > n[0] or k[1] > n[1]:
        skippable.append(f'Kubeadm version v{kubeadm} can only be used to upgrade to Kubernetes version {k[0]}.{k[1]}')
    old = sorted({f'v{v}' for v in kubelets if v and n[1] > vtuple(v)[1] + 3})
    if old:
        skippable.append(f'There are kubelets in this cluster that are too old that have these versions [{" ".join(old)}]')
    if mandatory:
        fail('the version argument is invalid due to these fatal errors:\n\n' + ''.join(f'\t- {e}\n' for e in mandatory) +
             '\nPlease fix the misalignments highlighted above and try upgrading again')
    if skippable and not force:
        fail('the version argument is invalid due to these errors:\n\n' + ''.join(f'\t- {e}\n' for e in skippable) +
             '\nCan be bypassed if you pass the --force flag')


def upgrade_static_pods(node, version):
    """The control-plane phase: this node's static pods rewritten at `version`; the kubelet restarts them."""
    for c in CONTROL_PLANE:
        path = f'{MANIFESTS}/{c}.yaml'
        if os.path.exists(path):
            rest = re.sub(r'^# stand-in static pod \S+ of [^,:\s]+(, version v[0-9.]+)?', '', read(path).rstrip('\n'))
            manifest(c, node, rest, version)
    print(f'[upgrade/control-plane] The control plane instance for this node was successfully upgraded to "{version}"')


def upgrade(args):
    node = socket.gethostname()
    if args[:1] == ['apply']:
        version = next((a for a in args[1:] if not a.startswith('-')), None)
        if not version or not re.fullmatch(r'v?\d+\.\d+\.\d+', version):
            fail('missing one or more required arguments: [version]')
        version = 'v' + version.lstrip('v')
        force = '--force' in args or '-f' in args
        state = client(f'{K}/admin.conf', node)

        def preflight():
            kubelets = [n.get('version') for n in state['nodes'].values()]
            enforce_version_policies(state['version'], version, package_version('kubeadm'), kubelets, force)

        def upload_config():
            st = load_state()
            st['version'] = version
            st['objects']['ConfigMap/kube-system/kubeadm-config'] = 'stand-in'
            save_state(st)

        def kubelet_config():
            write(KUBELET_CONFIG, f'# stand-in KubeletConfiguration written by kubeadm for {node}, version {version}\n')

        def addon():
            objects = load_state()
            objects['objects'].update({'Deployment/kube-system/coredns': 'stand-in', 'DaemonSet/kube-system/kube-proxy': 'stand-in'})
            save_state(objects)

        run_phases('upgrade-apply', [('preflight', preflight), ('control-plane', lambda: upgrade_static_pods(node, version)),
                                     ('upload-config', upload_config), ('kubelet-config', kubelet_config),
                                     ('bootstrap-token', lambda: None), ('addon', addon), ('post-upgrade', lambda: None)], set())
        print(f'[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "{version}".')
    elif args[:1] == ['node']:
        cp = os.path.exists(f'{MANIFESTS}/kube-apiserver.yaml')
        state = client(f'{K}/admin.conf' if cp else KUBELET_CONF, node)
        version = state['version']
        k = vtuple(package_version('kubeadm'))
        if vtuple(version) < (k[0], k[1] - 1, 0):
            fail(f'unable to fetch the kubeadm-config ConfigMap: this version of kubeadm only supports deploying clusters with the control plane '
                 f'version >= {k[0]}.{k[1] - 1}.0. Current version: {version}')

        def control_plane():
            if not cp:
                print('[upgrade/control-plane] Skipping phase. Not a control plane node.')
                return
            upgrade_static_pods(node, version)

        def kubelet_config():
            write(KUBELET_CONFIG, f'# stand-in KubeletConfiguration from the kubelet-config ConfigMap, for {node}, version {version}\n')

        run_phases('upgrade-node', [('preflight', lambda: None), ('control-plane', control_plane), ('kubelet-config', kubelet_config)], set())
        print('[upgrade] The configuration for this node was successfully upgraded!')
    else:
        fail(f'unknown command "upgrade {" ".join(args[:1])}"')


def cluster_configuration(kubeconfig_path):
    """kubectl get configmap kubeadm-config -o jsonpath={.data.ClusterConfiguration}, with that kubeconfig."""
    node = socket.gethostname()
    state = client(kubeconfig_path, node)
    print(f'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nkubernetesVersion: {state["version"]}')
# --- crictl and etcdctl, as far as day-2 commands use them ---
# crictl ps --name <regex> [--state running] -q lists the running containers' IDs
# (kubernetes-sigs/cri-tools cmd/crictl/container.go); here, one container per running static pod.
# crictl exec <id> etcdctl … runs etcdctl in the etcd container (the etcd image ships it:
# kubernetes/kubernetes cluster/images/etcd/Dockerfile), where /etc/kubernetes/pki/etcd is mounted
# (phases/etcd/local.go). etcdctl, as etcd-io/etcd etcdctl/ctlv3 has it: --endpoints must reach
# the local member (https://127.0.0.1:2379); the CA, certificate and key files must exist, and the
# certificate be signed by the etcd CA (etcd runs with --client-cert-auth; a handshake with another
# certificate fails, which etcdctl reports as "context deadline exceeded"); `member list` prints
# "ID, status, name, peer URLs, client URLs, is learner" (ctlv3/command/printer.go, printer_simple.go);
# `member remove <hex ID>` answers "Member <ID> removed from cluster <ID>", or fails with
# "etcdserver: member not found".

def container_id(component):
    return hashlib.sha256(f'{socket.gethostname()}/{component}'.encode()).hexdigest()[:13]


def member_id(member):
    return int(hashlib.sha256(member['peer'].encode()).hexdigest()[:16], 16)


def crictl(args):
    if args[:1] == ['ps']:
        flags = dict(zip(args[1::2], args[2::2]))
        pattern = flags.get('--name', '')
        for c in pods():
            if re.search(pattern, c) and flags.get('--state', 'running') == 'running':
                print(container_id(c))
        return
    if args[:1] == ['exec']:
        cid, command = args[1], args[2:]
        running = {container_id(c): c for c in pods()}
        if cid not in running:
            fail(f'rpc error: code = NotFound desc = could not find container "{cid}"')
        if running[cid] != 'etcd' or command[:1] != ['etcdctl']:
            fail(f'execing command in container: exec failed: unable to start container process: exec: "{command[0]}": executable file not found in $PATH')
        return etcdctl(command[1:])
    fail(f'stand-in crictl: {" ".join(args)} is not acted out')


def etcdctl(args):
    opts = {k: v for k, _, v in (a.partition('=') for a in args if a.startswith('--'))}
    words = [a for a in args if not a.startswith('--')]
    if opts.get('--endpoints') != 'https://127.0.0.1:2379':
        fail(f'context deadline exceeded (no etcd member listens at {opts.get("--endpoints")} here)')
    for flag in ('--cacert', '--cert', '--key'):
        if not os.path.exists(opts.get(flag, '')):
            fail(f'open {opts.get(flag, "")}: no such file or directory')
    if f'signed by etcd/ca {fingerprint(f"{PKI}/etcd/ca.crt")}' not in (read(opts['--cert']) or ''):
        fail('context deadline exceeded')
    state = load_state()
    members = state.get('etcd', [])
    if words == ['member', 'list']:
        for m in members:
            host = m['peer'].removeprefix('https://').rsplit(':', 1)[0]
            print(f'{member_id(m):x}, started, {m["name"]}, {m["peer"]}, https://{host}:2379, false')
        return
    if words[:2] == ['member', 'remove'] and len(words) == 3:
        wanted = int(words[2], 16)
        left = [m for m in members if member_id(m) != wanted]
        if len(left) == len(members):
            fail('etcdserver: member not found')
        state['etcd'] = left
        save_state(state)
        print(f'Member {wanted:16x} removed from cluster {member_id(members[0]) ^ 0x5a5a:16x}')
        return
    fail(f'stand-in etcdctl: {" ".join(words)} is not acted out')


def main():
    command, args = sys.argv[1], sys.argv[2:]
    try:
        if command == 'crictl':
            crictl(args)
        elif command == 'poweroff':
            poweroff(' '.join(args))
        elif command == 'kubelet-boot':
            kubelet_tick(socket.gethostname())
        elif command == 'kubelet-start':
            start_kubelet(socket.gethostname())
        elif command == 'upgrade':
            upgrade(args)
        elif command == 'cluster-configuration':
            cluster_configuration(args[0])
        elif command == 'kubelet-stop':
            set_active('kubelet', False)
        else:
            opts = parse(args)
            if command in ('init', 'join') and not opts['config']:
                fail(f'stand-in kubeadm: {command} without --config')
            {'init': init, 'join': join, 'reset': reset}[command](opts)
    except Fail as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)


main()
