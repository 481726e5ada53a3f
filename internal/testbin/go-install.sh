#!/usr/bin/env bash
# go-install.sh installs the Go commands the tests run as real callers
# (kustomize for the KRM function, Helm 4 for the post-renderer plugin)
# into OUT_DIR through the Go module proxy, at the versions pinned in
# versions.env. A command is reinstalled only when its stamp
# OUT_DIR/<name>.version does not hold the pinned version.
#
#   internal/testbin/go-install.sh OUT_DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ $# -eq 1 ]] || {
	echo "usage: $0 OUT_DIR" >&2
	exit 2
}
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source=versions.env
. "$here/versions.env"

# install NAME PACKAGE VERSION
install() {
	local name=$1 pkg=$2 version=$3
	local stamp="$out/$name.version"
	if [[ -x "$out/$name" && -f "$stamp" && "$(<"$stamp")" == "$version" ]]; then
		return
	fi
	echo "testbin: installing $name $version ($pkg)"
	local start=$SECONDS tmp
	tmp=$(mktemp -d)
	# The tools are built outside this module, with their own go.mod.
	(cd "$tmp" && GOBIN="$tmp" GOFLAGS=-mod=mod go install "$pkg@$version")
	mv "$tmp/$name" "$out/$name"
	rm -rf "$tmp"
	echo "$version" >"$stamp"
	echo "testbin: installed $name in $((SECONDS - start)) s"
}

install kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
install helm helm.sh/helm/v4/cmd/helm "$HELM4_VERSION"
