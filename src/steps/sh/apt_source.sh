# shellcheck shell=bash
# apt_source NAME URL: an apt source signed by its own keyring (never apt-key, which is gone).
#
# kubebake ships what follows the first blank line (see template.ts); this header stays here.

apt_source() {
  local keyring=/etc/apt/keyrings/$1-apt-keyring.gpg
  curl -fsSL --retry 5 --retry-delay 5 "$2"Release.key | gpg --batch --yes --dearmor -o "$keyring"
  chmod 0644 "$keyring"
  echo "deb [signed-by=$keyring] $2 /" > "/etc/apt/sources.list.d/$1.list"
}
