#!/usr/bin/env bash
# Renders every profile (cloud-init with every delivery form, and packer) with the fixture secrets
# store, and prints one line per output file: mode, sha256, path. Run it before and after a
# refactoring and diff the two listings: any difference is a change of behaviour.
#   test/tools/render-all-profiles.sh OUTDIR > listing.txt
# The writer's own ledger (.kubebake-manifest.json: stats, inodes) is left out; so are the copied
# secrets (they are the input) and the identity.json the render records in the copy.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: $0 OUTDIR}
rm -rf "$out"
mkdir -p "$out"
for topo in "$root"/profiles/*.yaml; do
  profile=$(basename "$topo" .yaml)
  name=$(sed -n 's/^name: *//p' "$topo" | head -n 1)
  dest="$out/$profile"
  mkdir -m 0700 -p "$dest/$name"
  cp -r "$root/test/fixtures/secrets" "$dest/$name/secrets"
  find "$dest/$name/secrets" -type d -exec chmod 0700 {} +
  find "$dest/$name/secrets" -type f -exec chmod 0600 {} +
  node "$root/bin/kubebake.js" render cloud-init -f "$topo" -o "$dest" --delivery all >/dev/null 2>"$dest.stderr" || { cat "$dest.stderr" >&2; exit 1; }
  if node "$root/bin/kubebake.js" render packer -f "$topo" -o "$dest/packer" >/dev/null 2>"$dest.packer.stderr"; then :; else echo "packer render of $profile: exit $?" >>"$dest.packer.stderr"; fi
done
cd "$out"
find . -type f ! -name '.kubebake-manifest.json' ! -path '*/secrets/*' -printf '%m %p\n' | sort -k2 | while read -r mode path; do
  printf '%s %s %s\n' "$mode" "$(sha256sum "$path" | cut -c1-64)" "$path"
done
