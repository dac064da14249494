// What Packer's shell provisioner does with `execute_command`, for tests that run the rendered
// command themselves. hashicorp/packer provisioner/shell/provisioner.go @
// 001886670d310bc0de6dbd03f132e6fc145e556a: the template's data is ExecuteCommandTemplate
// {Vars, EnvVarFile, Path}; Vars is createFlattenedEnvVars(): PACKER_BUILD_NAME,
// PACKER_BUILDER_TYPE (always) and the provisioner's environment_vars, keys sorted, each as
// env_var_format (default "%s='%s' ") with a single quote in a value written as '"'"'
// (escapeEnvVars). The rendered command runs on the build machine through the SSH user's shell.

/** `{{ .Vars }}` as Packer renders it for these variables (default env_var_format). */
export function packerVars(vars: Record<string, string>): string {
  return Object.keys(vars)
    .sort()
    .map((k) => `${k}='${vars[k]!.replace(/'/g, `'"'"'`)}' `)
    .join('');
}

/**
 * The command Packer runs for one script: the template's fields filled in. Packer's template
 * engine knows only these three fields; any other {{ … }} left in it is an error there too.
 */
export function renderExecuteCommand(template: string, fields: { vars: Record<string, string>; path: string; envVarFile?: string }): string {
  const out = template.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, field: string) => {
    if (field === 'Vars') return packerVars(fields.vars);
    if (field === 'Path') return fields.path;
    if (field === 'EnvVarFile') return fields.envVarFile ?? '';
    throw new Error(`execute_command uses {{ .${field} }}, which Packer's shell provisioner does not have`);
  });
  if (/\{\{|\}\}/.test(out)) throw new Error(`execute_command has a template Packer cannot render: ${template}`);
  return out;
}

/**
 * A stand-in `sudo` that handles the environment as sudo-rs does (trifectatechfoundation/sudo-rs
 * @ e5a01fd7a20a5bfe5da6bc1b5cf7628e721c35c8, the behaviour since v0.2.8 (commit 8855fd52),
 * which Ubuntu 25.10 and later ship as `sudo`):
 * - src/sudo/cli/mod.rs: `-E`/`--preserve-env` without a list prints "preserving the entire
 *   environment is not supported, '-E' is ignored" and is ignored; `--preserve-env=A,B` keeps
 *   those; `-n` is accepted; any other flag is "invalid option provided".
 * - docs/man/sudo.8.md: VAR=value words before the command set variables for it (root: allowed).
 * - src/sudo/env/environment.rs: env_reset is mandatory; the command gets only the kept
 *   variables plus SUDO_COMMAND/UID/GID/USER/HOME, SHELL, HOME, LOGNAME, USER, PATH
 *   (/usr/bin:/bin:/usr/sbin:/sbin unless secure_path) and TERM (unknown).
 * It runs the command as the caller (tests run as root): only the environment matters here.
 */
export const SUDO_RS_STANDIN = `#!/bin/bash
# test stand-in for sudo-rs (see test/helpers/packer-shell.ts)
keep=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--non-interactive) shift ;;
    -E|--preserve-env) echo "sudo: preserving the entire environment is not supported, '$1' is ignored" >&2; shift ;;
    --preserve-env=*) IFS=, read -r -a names <<< "\${1#--preserve-env=}"; for n in "\${names[@]}"; do [ -n "\${!n+x}" ] && keep+=("$n=\${!n}"); done; shift ;;
    --) shift; break ;;
    -*) echo "sudo: invalid option provided" >&2; exit 1 ;;
    *) break ;;
  esac
done
while [ $# -gt 0 ] && [[ "$1" == [A-Za-z_]*=* ]]; do keep+=("$1"); shift; done
[ $# -gt 0 ] || { echo "sudo: no command" >&2; exit 1; }
user=$(id -un)
exec env -i SUDO_COMMAND="$*" SUDO_UID="$(id -u)" SUDO_GID="$(id -g)" SUDO_USER="$user" SUDO_HOME="$HOME" \\
  SHELL=/bin/bash HOME="$HOME" LOGNAME="$user" USER="$user" PATH=/usr/bin:/bin:/usr/sbin:/sbin TERM=unknown \\
  "\${keep[@]}" "$@"
`;
