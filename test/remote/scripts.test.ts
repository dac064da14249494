// The scripts day-2 commands run on hosts (src/remote/sh/) pass shellcheck, and what ssh is
// handed is those scripts and plain arguments, quoted for the remote shell: nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { remoteScript, sshArgv, type RemoteScript } from '../../src/remote/ssh.js';
import { missingTools, shellcheck } from '../helpers/tools.js';

const SCRIPTS: RemoteScript[] = ['haproxy-install', 'kubeadm-reset', 'etcd-member-remove'];

test('remote scripts: shellcheck -S warning', { skip: missingTools('shellcheck') }, () => {
  assert.equal(shellcheck(Object.fromEntries(SCRIPTS.map((s) => [`${s}.sh`, remoteScript(s)]))), '');
});

test("remote scripts: ssh's argv is options, the host, and one command line the remote shell splits back into sudo bash -c SCRIPT NAME ARGS", () => {
  const argv = sshArgv({ user: 'kubeadmin', configFile: '/tmp/ssh config', timeoutMs: 1000 }, { name: 'cp1', address: '10.20.0.11' }, 'etcd-member-remove', ["https://10.20.0.13:2380", "it's"]);
  assert.deepEqual(argv.slice(0, -1), ['-F', '/tmp/ssh config', '-T', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4', '-l', 'kubeadmin', '--', '10.20.0.11']);
  // The remote side runs the command line through the user's shell (bash): split it as bash does.
  const words = spawnSync('bash', ['-c', `for w in ${argv.at(-1)}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1);
  assert.deepEqual(words, ['sudo', '-n', 'bash', '-c', remoteScript('etcd-member-remove'), 'kubebake-etcd-member-remove', 'https://10.20.0.13:2380', "it's"]);
});
