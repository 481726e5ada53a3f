#!/usr/bin/env bash
# build.sh builds the binaries of the simulated cluster and fetches the CRDs
# it installs, everything through the Go module proxy.
#
#   internal/testbin/build.sh [--all] OUT_DIR
#
# It builds etcd, kube-apiserver, kube-scheduler, kube-controller-manager,
# kwok (the simulated kubelets) and Flux's source-controller,
# kustomize-controller and helm-controller (sim up --flux), and copies kwok's
# stage configurations (which the kwok binary needs to play nodes and pods)
# into OUT_DIR/kwok-stages/.
# --all is accepted for compatibility and changes nothing: everything is
# always built. CRDs go to OUT_DIR/crds/rook/crds.yaml and
# OUT_DIR/crds/flux/*.yaml. The chart repository the simulated cluster
# serves (rook-ceph from Rook's module, the ceph-csi stand-ins; see
# internal/chartrepo) goes to OUT_DIR/charts/.
#
# Versions are pinned only in internal/testbin/versions.env; the tools modules
# under internal/testbin/tools/ must agree with it (checked below). A binary is
# rebuilt only when it is missing or its stamp OUT_DIR/<name>.version does not
# hold the pinned version, so a second run takes well under a second.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools"

usage() {
	echo "usage: $0 [--all] OUT_DIR" >&2
	exit 2
}

die() {
	echo "testbin: $*" >&2
	exit 1
}

out=""
for arg in "$@"; do
	case "$arg" in
	--all) ;; # everything is built; kept for older Makefiles and scripts
	-h | --help) usage ;;
	-*) echo "testbin: unknown flag $arg" >&2; usage ;;
	*)
		[[ -z "$out" ]] || usage
		out=$arg
		;;
	esac
done
[[ -n "$out" ]] || usage
command -v go >/dev/null 2>&1 || die "go is not installed"

# shellcheck source-path=SCRIPTDIR source=versions.env
source "$here/versions.env"
for v in KUBERNETES_VERSION ETCD_VERSION KWOK_VERSION DESCHEDULER_VERSION ROOK_VERSION FLUX_KUSTOMIZE_CONTROLLER_VERSION \
	FLUX_SOURCE_CONTROLLER_VERSION FLUX_HELM_CONTROLLER_VERSION; do
	[[ -n "${!v:-}" ]] || die "$v is not set in $here/versions.env"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Partial results of an interrupted or failed run are never left behind.
trap 'rm -rf "$out"/.*.tmp.$$' EXIT

# One build at a time per output folder: kube-apiserver takes minutes.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$out/.lock"
	flock 9
fi

# required_version GOMOD MODULE prints the version GOMOD requires of MODULE.
required_version() {
	awk -v m="$2" '
		$1 == "require" && $2 == "(" { block = 1; next }
		block && $1 == ")" { block = 0; next }
		$1 == "require" && $2 == m { print $3; exit }
		block && $1 == m { print $2; exit }
	' "$1"
}

# check_tools fails unless the tools modules pin what versions.env says.
check_tools() {
	local got staging bad
	got=$(required_version "$tools/kubernetes/go.mod" k8s.io/kubernetes)
	[[ "$got" == "$KUBERNETES_VERSION" ]] ||
		die "internal/testbin/tools/kubernetes/go.mod requires k8s.io/kubernetes ${got:-(nothing)}, versions.env says KUBERNETES_VERSION=$KUBERNETES_VERSION"
	# Staging modules (k8s.io/api, ...) are replaced by v0.<minor>.<patch>.
	staging="v0.${KUBERNETES_VERSION#v1.}"
	bad=$(awk -v want="$staging" '
		$2 == "=>" && $1 ~ /^k8s\.io\// && $4 != want { print $1 " => " $3 " " $4 }
		$3 == "=>" && $1 == "replace" && $2 ~ /^k8s\.io\// && $5 != want { print $2 " => " $4 " " $5 }
	' "$tools/kubernetes/go.mod")
	[[ -z "$bad" ]] ||
		die "internal/testbin/tools/kubernetes/go.mod replaces staging modules with versions other than $staging (KUBERNETES_VERSION=$KUBERNETES_VERSION):
$bad"
	got=$(required_version "$tools/etcd/go.mod" go.etcd.io/etcd/server/v3)
	[[ "$got" == "$ETCD_VERSION" ]] ||
		die "internal/testbin/tools/etcd/go.mod requires go.etcd.io/etcd/server/v3 ${got:-(nothing)}, versions.env says ETCD_VERSION=$ETCD_VERSION"
	got=$(required_version "$tools/kwok/go.mod" sigs.k8s.io/kwok)
	[[ "$got" == "$KWOK_VERSION" ]] ||
		die "internal/testbin/tools/kwok/go.mod requires sigs.k8s.io/kwok ${got:-(nothing)}, versions.env says KWOK_VERSION=$KWOK_VERSION"
	got=$(required_version "$tools/descheduler/go.mod" sigs.k8s.io/descheduler)
	[[ "$got" == "$DESCHEDULER_VERSION" ]] ||
		die "internal/testbin/tools/descheduler/go.mod requires sigs.k8s.io/descheduler ${got:-(nothing)}, versions.env says DESCHEDULER_VERSION=$DESCHEDULER_VERSION"
}

# Kubernetes binaries report the pinned version (kubectl version, /version),
# like release builds do.
k8s_minor=${KUBERNETES_VERSION#v1.}
k8s_minor=${k8s_minor%%.*}
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	k8s_ldflags+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor -X $pkg.gitTreeState=clean"
done

# adoptable BIN DEP VERSION BANNER succeeds when BIN, which has no stamp, was
# built from module DEP at VERSION with -trimpath (go version -m records that) and
# `BIN --version` prints BANNER (-ldflags is not recorded under -trimpath).
# It lets a binary built by hand or by an older script be reused. An empty
# BANNER means: never adopt, build.
adoptable() {
	local info
	[[ -n "$4" ]] || return 1
	info=$(go version -m "$1" 2>/dev/null) || return 1
	grep -qE "^[[:space:]]+(mod|dep)[[:space:]]+$2[[:space:]]+$3([[:space:]]|\$)" <<<"$info" || return 1
	grep -qE "^[[:space:]]+build[[:space:]]+-trimpath=true" <<<"$info" || return 1
	"$1" --version 2>/dev/null | grep -qxF -- "$4" || return 1
}

# build NAME MODDIR PKG VERSION DEP LDFLAGS BANNER
build() {
	local name=$1 moddir=$2 pkg=$3 version=$4 dep=$5 ldflags=$6 banner=$7
	local bin="$out/$name" stamp="$out/$name.version"
	if [[ -x "$bin" && -f "$stamp" && "$(<"$stamp")" == "$version" ]]; then
		echo "testbin: $name $version is up to date"
		return
	fi
	if [[ -x "$bin" && ! -f "$stamp" ]] && adoptable "$bin" "$dep" "$version" "$banner"; then
		echo "$version" >"$stamp"
		echo "testbin: $name $version already built, stamped"
		return
	fi
	echo "testbin: building $name $version (a cold build takes minutes: kube-apiserver about 4 on 2 cores, the descheduler and kwok about 2)"
	local start=$SECONDS tmp="$out/.$name.tmp.$$"
	rm -f "$stamp"
	if ! (cd "$moddir" && go build -trimpath -ldflags="$ldflags" -o "$tmp" "$pkg"); then
		rm -f "$tmp"
		die "building $name from $moddir failed"
	fi
	mv -f "$tmp" "$bin"
	echo "$version" >"$stamp"
	echo "testbin: built $name in $((SECONDS - start)) s"
}

# module_dir MODULE@VERSION prints the module's folder in the module cache,
# downloading it through the Go module proxy when needed.
module_dir() {
	local scratch json dir
	scratch=$(mktemp -d)
	printf 'module testbin.scratch\n\ngo 1.26.0\n' >"$scratch/go.mod"
	if ! json=$(cd "$scratch" && GOFLAGS=-mod=mod go mod download -json "$1" 2>&1); then
		rm -rf "$scratch"
		die "go mod download $1 failed:
$json"
	fi
	rm -rf "$scratch"
	dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' <<<"$json")
	[[ -n "$dir" && -d "$dir" ]] || die "go mod download $1 gave no folder:
$json"
	echo "$dir"
}

# build_flux NAME VERSION builds github.com/fluxcd/NAME@VERSION. Its go.mod
# replaces its api module with ./api, a folder the module's zip does not hold
# (a nested module), so `go install` refuses it: the module is copied to a
# scratch folder, the replace is dropped so that the api module comes from the
# proxy at the version go.mod requires, and the copy is built there with
# -trimpath. Same stamp scheme as build.
build_flux() {
	local name=$1 version=$2
	local bin="$out/$name" stamp="$out/$name.version" src tmp start=$SECONDS
	if [[ -x "$bin" && -f "$stamp" && "$(<"$stamp")" == "$version" ]]; then
		echo "testbin: $name $version is up to date"
		return
	fi
	echo "testbin: building $name $version (a cold build takes minutes: 2 to 4 each on 2 cores)"
	src=$(module_dir "github.com/fluxcd/$name@$version")
	tmp="$out/.$name-src.tmp.$$"
	rm -rf "$tmp" "$stamp"
	cp -R "$src" "$tmp"
	chmod -R u+w "$tmp"
	if ! (cd "$tmp" && go mod edit -dropreplace "github.com/fluxcd/$name/api" &&
		GOFLAGS=-mod=mod go build -trimpath -ldflags="-s -w" -o "$out/.$name.tmp.$$" .); then
		rm -rf "$tmp" "$out/.$name.tmp.$$"
		die "building $name from github.com/fluxcd/$name@$version failed"
	fi
	rm -rf "$tmp"
	mv -f "$out/.$name.tmp.$$" "$bin"
	echo "$version" >"$stamp"
	echo "testbin: built $name in $((SECONDS - start)) s"
}

# fetch_crds copies Rook's and Flux's CRDs into OUT_DIR/crds, unless the stamp
# says the pinned versions are already there.
fetch_crds() {
	local crds="$out/crds" want dir tmp
	want="rook $ROOK_VERSION
kustomize-controller $FLUX_KUSTOMIZE_CONTROLLER_VERSION
source-controller $FLUX_SOURCE_CONTROLLER_VERSION
helm-controller $FLUX_HELM_CONTROLLER_VERSION"
	if [[ -f "$crds/.version" && "$(<"$crds/.version")" == "$want" &&
		-s "$crds/rook/crds.yaml" && -d "$crds/flux" ]]; then
		echo "testbin: CRDs are up to date"
		return
	fi
	tmp="$out/.crds.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp/rook" "$tmp/flux"
	dir=$(module_dir "github.com/rook/rook@$ROOK_VERSION")
	[[ -f "$dir/deploy/examples/crds.yaml" ]] || die "github.com/rook/rook@$ROOK_VERSION has no deploy/examples/crds.yaml"
	install -m 0644 "$dir/deploy/examples/crds.yaml" "$tmp/rook/crds.yaml"
	local mod ver n
	for mod in kustomize-controller source-controller helm-controller; do
		case $mod in
		kustomize-controller) ver=$FLUX_KUSTOMIZE_CONTROLLER_VERSION ;;
		source-controller) ver=$FLUX_SOURCE_CONTROLLER_VERSION ;;
		helm-controller) ver=$FLUX_HELM_CONTROLLER_VERSION ;;
		esac
		dir=$(module_dir "github.com/fluxcd/$mod@$ver")
		n=0
		for f in "$dir"/config/crd/bases/*.yaml; do
			[[ -f "$f" ]] || continue
			install -m 0644 "$f" "$tmp/flux/"
			n=$((n + 1))
		done
		[[ $n -gt 0 ]] || die "github.com/fluxcd/$mod@$ver has no config/crd/bases/*.yaml"
	done
	echo "$want" >"$tmp/.version"
	rm -rf "$crds"
	mv "$tmp" "$crds"
	echo "testbin: fetched CRDs (rook $ROOK_VERSION, flux kustomize $FLUX_KUSTOMIZE_CONTROLLER_VERSION, source $FLUX_SOURCE_CONTROLLER_VERSION, helm $FLUX_HELM_CONTROLLER_VERSION)"
}

# kwok_stages copies the Stage configurations that the kwok binary needs into
# OUT_DIR/kwok-stages (kwok has no built-in stages; kwokctl passes these same
# files). They come from the pinned kwok module, so that they always match
# the binary, together with kwok's licence (Apache-2.0).
kwok_stages() {
	local stages="$out/kwok-stages" want="kwok $KWOK_VERSION" dir tmp f
	local files=(
		node/fast/node-initialize.yaml
		node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
		pod/fast/pod-ready.yaml
		pod/fast/pod-complete.yaml
		pod/fast/pod-delete.yaml
	)
	if [[ -f "$stages/.version" && "$(<"$stages/.version")" == "$want" ]]; then
		echo "testbin: kwok stages are up to date"
		return
	fi
	tmp="$out/.kwok-stages.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dir=$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")
	for f in "${files[@]}"; do
		[[ -f "$dir/kustomize/stage/$f" ]] || die "sigs.k8s.io/kwok@$KWOK_VERSION has no kustomize/stage/$f"
		install -m 0644 "$dir/kustomize/stage/$f" "$tmp/"
	done
	install -m 0644 "$dir/LICENSE" "$tmp/LICENSE"
	cat >"$tmp/README" <<EOT
Stage configurations of kwok $KWOK_VERSION (sigs.k8s.io/kwok, kustomize/stage/),
copied unchanged by internal/testbin/build.sh. Licensed under the Apache
License 2.0 (LICENSE in this folder). The simulated cluster passes every
*.yaml file here to kwok with --config.
EOT
	echo "$want" >"$tmp/.version"
	rm -rf "$stages"
	mv "$tmp" "$stages"
	echo "testbin: copied kwok $KWOK_VERSION stages"
}

# build_charts packages the chart repository into OUT_DIR/charts, unless the
# stamp OUT_DIR/charts.version says it was built from the pinned Rook, the
# current internal/chartrepo sources and the same modules (go.mod, go.sum:
# the Helm SDK packages the charts).
build_charts() {
	local repo="$here/../.." stamp="$out/charts.version" want dir sum
	sum=$(cd "$repo" && { find internal/chartrepo -type f ! -name '*_test.go' -print0; printf '%s\0' go.mod go.sum; } | sort -z | xargs -0 sha256sum | sha256sum)
	want="rook $ROOK_VERSION chartrepo ${sum%% *}"
	if [[ -f "$stamp" && "$(<"$stamp")" == "$want" && -s "$out/charts/index.yaml" ]]; then
		echo "testbin: chart repository is up to date"
		return
	fi
	dir=$(module_dir "github.com/rook/rook@$ROOK_VERSION")
	rm -f "$stamp"
	(cd "$repo" && go run ./internal/chartrepo/buildcharts -rook-dir "$dir" -rook-version "$ROOK_VERSION" "$out/charts") ||
		die "building the chart repository failed"
	echo "$want" >"$stamp"
	echo "testbin: built the chart repository in $out/charts"
}

check_tools
build etcd "$tools/etcd" kubectl-stretch.dev/testbin/etcd "$ETCD_VERSION" \
	go.etcd.io/etcd/server/v3 "-s -w" "etcd Version: ${ETCD_VERSION#v}"
for b in kube-apiserver kube-scheduler kube-controller-manager; do
	build "$b" "$tools/kubernetes" "k8s.io/kubernetes/cmd/$b" "$KUBERNETES_VERSION" \
		k8s.io/kubernetes "$k8s_ldflags" "Kubernetes $KUBERNETES_VERSION"
done
# kwok prints "kwok version vX go1.N (os/arch)": no fixed banner to adopt by.
build kwok "$tools/kwok" sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" \
	sigs.k8s.io/kwok "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" ""
# The descheduler prints no version banner to adopt by.
build descheduler "$tools/descheduler" sigs.k8s.io/descheduler/cmd/descheduler "$DESCHEDULER_VERSION" \
	sigs.k8s.io/descheduler "-s -w -X sigs.k8s.io/descheduler/pkg/version.version=$DESCHEDULER_VERSION" ""
build_flux source-controller "$FLUX_SOURCE_CONTROLLER_VERSION"
build_flux kustomize-controller "$FLUX_KUSTOMIZE_CONTROLLER_VERSION"
build_flux helm-controller "$FLUX_HELM_CONTROLLER_VERSION"
kwok_stages
fetch_crds
build_charts
