#!/usr/bin/python3
# A load balancer's HAProxy reloaded while connections pass through it, for
# test/e2e/haproxy-reload.test.ts. Runs as root inside private mount, network and PID namespaces
# (the test starts it under unshare), so this machine's network, /run and /etc stay untouched:
# - the topology's addresses are put on the namespace's loopback; each control plane is a small
#   TLS server on <ip>:6443 that answers HAProxy's health check (GET /readyz → 200) and otherwise
#   echoes each line with its own name, so a client knows which control plane it reached;
# - the real HAProxy runs the first haproxy.cfg, started as Debian's haproxy.service starts it
#   (ExecStart of /lib/systemd/system/haproxy.service, its Environment= expanded);
# - the script under test (src/remote/sh/haproxy-install.sh) gets the second haproxy.cfg on its
#   standard input; its `systemctl reload-or-restart haproxy` meets a STAND-IN systemctl that runs
#   the unit's own ExecReload= lines with $MAINPID (haproxy -c, then kill -USR2), as systemd would;
# - connections opened before the reload are used again after it, and new ones are counted by
#   the control plane that answers them.
# usage: haproxy_reload.py WORKDIR SCRIPT CFG_BEFORE CFG_AFTER STAGED IP...   (CP ips as name=ip)
# Prints one JSON object: the script's exit and output, who answered each old connection before
# and after, and who answered the new ones.
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time

UNIT = '/lib/systemd/system/haproxy.service'


def unit_env():
    text = open(UNIT).read()
    env = {}
    for line in re.findall(r'^Environment=(.*)$', text, re.M):
        for k, v in re.findall(r'"?([A-Z_]+)=([^"]*)"?', line):
            env[k] = v
    return text, env


def expand(cmd, env):
    return re.sub(r'\$([A-Z_]+)', lambda m: env.get(m.group(1), ''), cmd)


def serve_control_plane(name, ip, ctx):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ip, 6443))
    srv.listen(64)

    def handle(raw):
        try:
            conn = ctx.wrap_socket(raw, server_side=True)
            f = conn.makefile('rwb', buffering=0)
            first = f.readline()
            if first.startswith(b'GET /readyz'):
                conn.sendall(b'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')
                conn.close()
                return
            line = first
            while line:
                conn.sendall(name.encode() + b' ' + line)
                line = f.readline()
        except (OSError, ssl.SSLError):
            pass

    def loop():
        while True:
            c, _ = srv.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


def client(lb, ask):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection((lb, 6443), timeout=5))
    f = s.makefile('rwb', buffering=0)
    f.write(ask)
    return s, f, f.readline().decode().split(' ')[0]


def main():
    work, script, before, after, staged, lb, *cps = sys.argv[1:]
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    for ip in [lb] + [c.split('=')[1] for c in cps]:
        subprocess.run(['ip', 'addr', 'add', f'{ip}/32', 'dev', 'lo'], check=True)
    os.makedirs('/run/haproxy', exist_ok=True)
    os.makedirs(os.path.dirname(staged), exist_ok=True)
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
                    '-subj', '/CN=stand-in-apiserver', '-keyout', f'{work}/key.pem', '-out', f'{work}/cert.pem'],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(f'{work}/cert.pem', f'{work}/key.pem')
    for c in cps:
        name, ip = c.split('=')
        serve_control_plane(name, ip, ctx)

    unit, env = unit_env()
    env['CONFIG'] = '/etc/haproxy/haproxy.cfg'
    with open(env['CONFIG'], 'w') as f:
        f.write(open(before).read())
    start = expand(re.search(r'^ExecStart=(.*)$', unit, re.M).group(1), env).split()
    master = subprocess.Popen(start, stdout=open(f'{work}/haproxy.log', 'w'), stderr=subprocess.STDOUT)

    # The stand-in systemctl: the unit's ExecReload= lines, in order, with MAINPID, as systemd runs them.
    reloads = [expand(l, {**env, 'MAINPID': str(master.pid)}) for l in re.findall(r'^ExecReload=(.*)$', unit, re.M)]
    bindir = f'{work}/bin'
    os.makedirs(bindir, exist_ok=True)
    with open(f'{bindir}/systemctl', 'w') as f:
        f.write('#!/bin/bash\n# STAND-IN systemctl (test/helpers/haproxy_reload.py): haproxy.service\'s ExecReload= lines.\n'
                'echo "systemctl $*" >> ' + work + '/systemctl.log\n'
                'case "$*" in "reload-or-restart haproxy"|"reload haproxy") ;; *) echo "stand-in systemctl: $* not supported" >&2; exit 1 ;; esac\n'
                + ''.join(f'{r} || exit 1\n' for r in reloads))
    os.chmod(f'{bindir}/systemctl', 0o755)

    deadline = time.time() + 15
    old = []
    while time.time() < deadline:
        try:
            old = [client(lb, b'who\n') for _ in range(6)]
            break
        except OSError:
            time.sleep(0.2)
    before_names = [n for _, _, n in old]

    run = subprocess.run(['bash', '-c', open(script).read(), 'kubebake-haproxy-install', staged], input=open(after).read(),
                         capture_output=True, text=True, env={**os.environ, 'PATH': f'{bindir}:{os.environ["PATH"]}'})
    time.sleep(1.5)  # the master re-executes and forks the new worker
    after_old = []
    for s, f, _ in old:
        try:
            f.write(b'who again\n')
            after_old.append(f.readline().decode().split(' ')[0] or None)
        except OSError:
            after_old.append(None)
    new = []
    for _ in range(6):
        try:
            s, f, n = client(lb, b'who\n')
            new.append(n)
            s.close()
        except OSError as e:
            new.append(f'error: {e}')
    procs = subprocess.run(['pgrep', '-x', 'haproxy'], capture_output=True, text=True).stdout.split()
    print(json.dumps({'rc': run.returncode, 'stdout': run.stdout, 'stderr': run.stderr, 'before': before_names, 'afterOld': after_old,
                      'new': new, 'live': open(env['CONFIG']).read(), 'staged': open(staged).read() if os.path.exists(staged) else None,
                      'masterAlive': master.poll() is None, 'haproxyProcesses': len(procs),
                      'haproxyLog': open(f'{work}/haproxy.log').read(),
                      'systemctl': open(f'{work}/systemctl.log').read() if os.path.exists(f'{work}/systemctl.log') else ''}))
    for s, _, _ in old:
        s.close()


main()
