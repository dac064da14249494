#!/usr/bin/python3
# STAND-IN for kubeadm's configuration reading, used by the sandbox (test/helpers/sandbox.ts).
# It is not kubeadm. It does what kubeadm does with a --config file before touching the host:
# decodes every document strictly against the field tables of its API version
# (src/verify/kubeadm-fields.ts, from kubeadm's own types.go; render-time verify uses them too),
# so an unknown or misspelled field, or a value of the wrong type, fails as kubeadm's strict
# decoding fails; YAML is read as YAML 1.1 (PyYAML), as kubeadm's go-yaml does, so `name: no` is a boolean here too.
# `init` records what joining nodes need (tokens, CA hash, endpoint); `join` checks its discovery
# against such a record, given by the test from an earlier init: a wrong token, CA pin or endpoint
# fails as discovery would.
#
# usage: kubeadm_standin.py init|join CONFIG FIELDS.json CLUSTER.json
import json
import re
import subprocess
import sys

import yaml

DURATION = re.compile(r'^-?(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$')


def fail(msg):
    print(f'error: {msg}', file=sys.stderr)
    sys.exit(1)


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


def ca_hash(path):
    der = subprocess.run(
        ['sh', '-c', f'openssl x509 -pubkey -noout -in {path} | openssl pkey -pubin -outform DER | sha256sum'],
        capture_output=True, text=True, check=True,
    ).stdout.split()[0]
    return f'sha256:{der}'


def main():
    mode, config, fields_file, cluster_file = sys.argv[1:5]
    tables = json.load(open(fields_file))['versions']
    try:
        docs = [d for d in yaml.safe_load_all(open(config)) if d is not None]
    except yaml.YAMLError as e:
        fail(f'could not read {config}: {e}')
    seen = {}
    for d in docs:
        if not isinstance(d, dict) or 'apiVersion' not in d or 'kind' not in d:
            fail(f'{config}: a document without apiVersion and kind')
        api, kind = d['apiVersion'], d['kind']
        if api.startswith('kubeadm.k8s.io/'):
            if api not in tables or kind not in tables[api]['kinds']:
                fail(f'no kind "{kind}" is registered for version "{api}"')
            body = {k: v for k, v in d.items() if k not in ('apiVersion', 'kind')}
            check(body, kind, '', tables[api]['structs'])
        # Other groups (KubeletConfiguration, KubeProxyConfiguration) are not checked by this stand-in.
        seen[kind] = d
    if mode == 'init':
        init = seen.get('InitConfiguration', {})
        cluster = seen.get('ClusterConfiguration', {})
        record = {
            'tokens': [t['token'] for t in init.get('bootstrapTokens', [])],
            'caCertHash': ca_hash('/etc/kubernetes/pki/ca.crt'),
            'endpoint': cluster.get('controlPlaneEndpoint', ''),
        }
        json.dump(record, open('/standin/cluster.json', 'w'))
        return
    join = seen.get('JoinConfiguration')
    if join is None:
        fail(f'{config} has no JoinConfiguration')
    bt = join.get('discovery', {}).get('bootstrapToken') or {}
    try:
        facts = json.load(open(cluster_file))
    except OSError:
        fail(f'couldn\'t validate the identity of the API Server: Get "https://{bt.get("apiServerEndpoint")}/api/v1/namespaces/kube-public/configmaps/cluster-info": no cluster there (the test gave no init record)')
    if bt.get('apiServerEndpoint') != facts['endpoint']:
        fail(f'couldn\'t validate the identity of the API Server: {bt.get("apiServerEndpoint")} is not the cluster\'s endpoint {facts["endpoint"]}')
    if bt.get('token') not in facts['tokens']:
        fail('couldn\'t validate the identity of the API Server: the token is not a bootstrap token of this cluster')
    if facts['caCertHash'] not in bt.get('caCertHashes', []):
        fail(f'cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "{facts["caCertHash"]}" are pinned')


main()
