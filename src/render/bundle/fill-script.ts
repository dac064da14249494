// The script an operator runs on a connected machine to fill a bundle's mirror/ from the internet:
// the package repositories (upstream's signed indexes as they are, plus exactly the pinned
// packages), the container images (skopeo), the files first boot downloads, the cloud image and
// Packer. Made from the artefact inventory, so it fetches what the cluster's scripts install.
import type { ArtifactInventory } from '../../manifest/inventory.js';
import { q, script } from '../../steps/shell.js';

/** Path of the script inside the bundle. */
export const FILL_SCRIPT = 'fill-mirror.sh';
/** HashiCorp's release key beside the script (src/packer/hashicorp-key.ts): what Packer's SUMS must be signed by. */
export const HASHICORP_KEY_FILE = 'hashicorp-release-key.asc';

export function renderFillScript(m: ArtifactInventory): string {
  const repoPackages = (repo: 'kubernetes' | 'cri-o'): string =>
    m.packages
      .filter((p) => p.repository === repo)
      .map((p) => q(`${p.name}=${p.version}`))
      .join(' ');
  const files = [...m.files, ...m.cloudImage.downloads];
  const images = m.images.map((i) => q(i.image)).join(' ');
  return script(
    `Fills mirror/ with what cluster ${m.cluster} installs (kubebake manifest). Run it on a machine with internet access; needs bash, curl, apt-get, gpg (gpgv), skopeo, unzip and dpkg-deb.`,
    `
here=$(cd "$(dirname "$0")" && pwd)
mirror=$here/mirror
arch=amd64

# fetch URL PATH: one file into mirror/PATH.
fetch() {
  install -d "$(dirname "$mirror/$2")"
  curl -fsSL --retry 5 -o "$mirror/$2" "$1"
}

# repo NAME URL PACKAGE=VERSION...: upstream's signed indexes as published (so the mirror keeps
# upstream's signature and Release.key), and the .deb of each pinned package. VERSION is exact,
# "1.NN.x" for the newest patch of a minor, or "newest" (a dependency apt resolves so).
repo() {
  local name=$1 url=$2 work spec pkg want v file sum
  shift 2
  work=$(mktemp -d)
  install -d "$mirror/$name" "$work/lists/partial" "$work/cache/archives/partial" "$work/parts"
  touch "$work/status"
  fetch "\${url}Release.key" "$name/Release.key"
  fetch "\${url}InRelease" "$name/InRelease"
  for file in Packages Packages.gz Packages.xz; do
    curl -fsSL --retry 5 -o "$mirror/$name/$file" "$url$file" || rm -f "$mirror/$name/$file"
  done
  # apt reads the copy just fetched, and checks its signature against Release.key.
  echo "deb [signed-by=$mirror/$name/Release.key] file:$mirror/$name/ /" > "$work/parts/$name.list"
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/parts" -o "Dir::State::Lists=$work/lists"
    -o "Dir::State::status=$work/status" -o "Dir::Cache=$work/cache" -o "APT::Architecture=$arch")
  apt-get -qq "\${opts[@]}" update
  for spec in "$@"; do
    pkg=\${spec%%=*} want=\${spec#*=}
    case "$want" in
      newest) v=$(apt-cache "\${opts[@]}" madison "$pkg" | awk '{ print $3; exit }') ;;
      *.x) v=$(apt-cache "\${opts[@]}" madison "$pkg" | awk -v want="\${want%x}" '{ v = $3 } index(v, want) == 1 { print v; exit }') ;;
      *) v=$(apt-cache "\${opts[@]}" madison "$pkg" | awk -v want="$want" '{ v = $3 } v == want || index(v, want "-") == 1 { print v; exit }') ;;
    esac
    [ -n "$v" ] || { echo "$pkg $want is not in $url" >&2; exit 1; }
    file=$(apt-cache "\${opts[@]}" show "$pkg=$v" | awk '/^Filename:/ { print $2; exit }')
    sum=$(apt-cache "\${opts[@]}" show "$pkg=$v" | awk '/^SHA256:/ { print $2; exit }')
    fetch "$url$file" "$name/$file"
    echo "$sum  $mirror/$name/$file" | sha256sum -c --quiet -
    echo "$pkg $v" >> "$mirror/$name/PINNED"
  done
  rm -rf "$work"
}

# packer_release VERSION KEY: Packer's zip, its SHA256SUMS and the SUMS' detached signature, as
# \`kubebake bake images\` checks them: the SUMS must be signed by KEY (HashiCorp's release key,
# beside this script) and must list the zip with the checksum it has.
packer_release() {
  local v=$1 key=$2 base=https://releases.hashicorp.com/packer/$1 keyring
  fetch "$base/packer_\${v}_SHA256SUMS" "packer/packer_\${v}_SHA256SUMS"
  fetch "$base/packer_\${v}_SHA256SUMS.sig" "packer/packer_\${v}_SHA256SUMS.sig"
  fetch "$base/packer_\${v}_linux_$arch.zip" "packer/packer_\${v}_linux_$arch.zip"
  keyring=$(mktemp)
  gpg --batch --dearmor < "$key" > "$keyring"
  if ! gpgv --keyring "$keyring" "$mirror/packer/packer_\${v}_SHA256SUMS.sig" "$mirror/packer/packer_\${v}_SHA256SUMS" 2>/dev/null; then
    rm -f "$keyring"
    echo "packer_\${v}_SHA256SUMS is not signed by HashiCorp's release key ($key): do not use these files" >&2
    exit 1
  fi
  rm -f "$keyring"
  (cd "$mirror/packer" && grep " packer_\${v}_linux_$arch.zip\$" "packer_\${v}_SHA256SUMS" | sha256sum -c --quiet -)
}

repo kubernetes ${q(m.repositories.kubernetes.upstream)} ${repoPackages('kubernetes')}
repo cri-o ${q(m.repositories['cri-o'].upstream)} ${repoPackages('cri-o')}

# The OS packages come from the OS archive itself: mirror it with debmirror or apt-mirror.
echo ${q(`OS packages from the ${m.os} archive (mirror it whole): ${m.packages.filter((p) => p.repository === 'os').map((p) => p.name).join(' ')}`)}

# Files first boot downloads, the cloud image Packer starts from, and its checksums.
${files.map((f) => `fetch ${q(f.upstream)} ${q(`files/${f.path}`)}`).join('\n')}

# Container images, each as an OCI archive: push them to the registry mirror with
#   skopeo copy oci-archive:mirror/images/<file>.tar docker://<mirror>/<image>
# kubeadm's etcd, CoreDNS and pause tags come from the pinned kubeadm itself.
kubeadm_deb=$(find "$mirror/kubernetes" -name 'kubeadm_*.deb' | head -n 1)
tmp=$(mktemp -d)
dpkg-deb -x "$kubeadm_deb" "$tmp"
# (not a process substitution: set -e would not see kubeadm fail, and the images would be missing)
list=$("$tmp/usr/bin/kubeadm" config images list --kubernetes-version ${q(`v${m.kubernetes}`)})
mapfile -t kubeadm_images <<<"$list"
rm -rf "$tmp"
install -d "$mirror/images"
for image in "\${kubeadm_images[@]}" ${images}; do
  skopeo copy --all "docker://$image" "oci-archive:$mirror/images/$(printf '%s' "$image" | tr '/:' '__').tar:$image"
  echo "$image" >> "$mirror/images/IMAGES"
done

# Packer and its plugin, for baking images on the site.
packer_release ${q(m.packer.version)} "$here/${HASHICORP_KEY_FILE}"
unzip -o -q "$mirror/packer/packer_${q(m.packer.version)}_linux_$arch.zip" packer -d "$mirror/packer"
PACKER_PLUGIN_PATH=$mirror/packer/plugins "$mirror/packer/packer" plugins install ${q(m.packer.plugin.source)} ${q(`v${m.packer.plugin.version}`)}

# A checksum of everything fetched, to check the copy that crosses into the site.
sums=$(cd "$mirror" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum)
printf '%s\n' "$sums" > "$mirror/SHA256SUMS"
echo "mirror/ is filled: copy it to the site and serve it (see mirror/README.md)"`,
  );
}

