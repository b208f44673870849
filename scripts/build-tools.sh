#!/usr/bin/env bash
# Builds the pinned tools (scripts/tools/versions.env) from the Go module proxy.
#
# Binaries live outside the repository, keyed by version, so a fresh clone (and CI) reuses them:
#   ${BOOTSTRAP_TOOLS_CACHE:-~/.cache/cluster-bootstrap/tools}/<family>/<version>/bin/
# The repository's ignored .tools/bin/ gets symlinks to the pinned versions; put it first on PATH.
#
# Usage: scripts/build-tools.sh [family ...]
#   (families: helm helmfile yq kubernetes etcd kwok flux-build source-controller kustomize-controller flux-crds actionlint;
#    on demand only, for scripts/generate-builtin-kinds.ts: builtin-kinds-1.33 … builtin-kinds-1.37)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/versions.env
source "$repo/scripts/tools/versions.env"
cache=${BOOTSTRAP_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cluster-bootstrap/tools}
links=$repo/.tools/bin

fail() { echo "build-tools: $*" >&2; exit 1; }

require_go() {
  command -v go >/dev/null 2>&1 ||
    fail "Go is not installed. Install Go >= $GO_MIN_VERSION (https://go.dev/doc/install) and rerun."
  local have
  have=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$have" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]; then
    fail "Go $have is too old. Install Go >= $GO_MIN_VERSION (or export GOTOOLCHAIN=go$GO_MIN_VERSION.0) and rerun."
  fi
}

# A wrapper module pins a tool whose own go.mod has replace directives (go install refuses those).
# $1 family, $2 version, $3 go.mod body, $4 ldflags, rest: packages to build.
build_with_wrapper() {
  local family=$1 version=$2 gomod=$3 ldflags=$4; shift 4
  local src=$cache/$family/$version/src out=$cache/$family/$version/bin
  mkdir -p "$src" "$out"
  printf '%s\n' "$gomod" >"$src/go.mod"
  (cd "$src" && go mod tidy && \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$out/" "$@")
}

build_with_install() {
  local family=$1 version=$2 ldflags=$3; shift 3
  local out=$cache/$family/$version/bin
  mkdir -p "$out"
  local pkg
  for pkg in "$@"; do
    CGO_ENABLED=0 GOBIN=$out go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
  done
}

build_helm() {
  build_with_install helm "$HELM_VERSION" \
    "-X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" helm.sh/helm/v4/cmd/helm
}

build_helmfile() {
  build_with_wrapper helmfile "$HELMFILE_VERSION" "module tools/helmfile

go 1.26

require github.com/helmfile/helmfile $HELMFILE_VERSION

tool github.com/helmfile/helmfile

// Copied from helmfile's own go.mod: without them the module graph does not resolve.
replace (
	k8s.io/api => k8s.io/api v0.35.4
	k8s.io/apimachinery => k8s.io/apimachinery v0.36.0
	k8s.io/client-go => k8s.io/client-go v0.35.4
)" "-X go.szostok.io/version.version=$HELMFILE_VERSION" github.com/helmfile/helmfile
}

build_yq() {
  build_with_install yq "$YQ_VERSION" "" github.com/mikefarah/yq/v4
}

kubernetes_staging_modules="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go
cloud-provider cluster-bootstrap code-generator component-base component-helpers controller-manager
cri-api cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice
externaljwt kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet
metrics mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming"

# k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local folders:
# a wrapper replaces each with the release's own version. $1 a k8s.io/kubernetes version.
kubernetes_replaces() {
  local staging=v0${1#v1} m
  for m in $kubernetes_staging_modules; do printf '\tk8s.io/%s => k8s.io/%s %s\n' "$m" "$m" "$staging"; done
}

# Without these a binary reports v0.0.0: the server then tells Helm so (which refuses charts with a
# kubeVersion constraint) and judges API lifecycles by 0.0. $1 a k8s.io/kubernetes version.
kubernetes_ldflags() {
  local minor=${1#v1.} pkg
  minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf ' -X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean' "$pkg" "$1" "$pkg" "$pkg" "$minor" "$pkg"
  done
}

build_kubernetes() {
  local v=$KUBERNETES_VERSION
  build_with_wrapper kubernetes "$v" "module tools/kubernetes

go 1.26

require k8s.io/kubernetes $v

tool (
	k8s.io/kubernetes/cmd/kube-apiserver
	k8s.io/kubernetes/cmd/kube-controller-manager
	k8s.io/kubernetes/cmd/kube-scheduler
	k8s.io/kubernetes/cmd/kubectl
)

replace (
$(kubernetes_replaces "$v")
)" "$(kubernetes_ldflags "$v")" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  build_with_wrapper etcd "$ETCD_VERSION" "module tools/etcd

go 1.26

require go.etcd.io/etcd/server/v3 $ETCD_VERSION

tool go.etcd.io/etcd/server/v3" "" go.etcd.io/etcd/server/v3
  # go build names the binary after the module's folder ("server"); kwokctl and people expect "etcd".
  local out=$cache/etcd/$ETCD_VERSION/bin
  mv "$out/server" "$out/etcd"
}

# go install stamps the module version into the binary (actionlint -version reads it).
build_actionlint() {
  build_with_install actionlint "$ACTIONLINT_VERSION" "" github.com/rhysd/actionlint/cmd/actionlint
}

build_kwok() {
  build_with_install kwok "$KWOK_VERSION" \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBERNETES_VERSION" \
    sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
}

# Our own helper over Flux's build and CEL libraries (scripts/tools/flux-build): keyed by the library version
# and a hash of the helper's sources, so an edit rebuilds it.
flux_build_version() {
  local sum
  sum=$(cat "$repo"/scripts/tools/flux-build/{go.mod,go.sum,*.go} | sha256sum | cut -c1-12)
  echo "$FLUX_KUSTOMIZE_VERSION-$sum"
}

build_flux-build() {
  local version src out
  version=$(flux_build_version)
  src=$cache/flux-build/$version/src out=$cache/flux-build/$version/bin
  mkdir -p "$src" "$out"
  cp "$repo"/scripts/tools/flux-build/{go.mod,go.sum,*.go} "$src/"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/flux-build" .)
}

# Flux's controllers (#22): their go.mod replaces `…/api => ./api`, a folder the module zip lacks, so
# the module is copied out of the module cache, that replace dropped (the require pins the same api
# version, which the proxy serves) and go.sum filled for it. $1 family, $2 version, rest: go mod edit
# flags that mend a dependency the proxy refuses.
build_flux_controller() {
  local family=$1 version=$2; shift 2
  local module=github.com/fluxcd/$family src=$cache/$family/$version/src out=$cache/$family/$version/bin
  mkdir -p "$out"
  local dir
  dir=$(cd "$cache" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || fail "go mod download $module@$version printed no Dir"
  rm -rf "$src"; cp -r "$dir" "$src"; chmod -R u+w "$src"
  (cd "$src" && go mod edit -dropreplace="$module/api" "$@" && \
    go mod download "$module/api@$version" && \
    CGO_ENABLED=0 go build -mod=mod -trimpath -ldflags "-s -w" -o "$out/$family" .)
}

build_kustomize-controller() {
  build_flux_controller kustomize-controller "$FLUX_KUSTOMIZE_CONTROLLER_VERSION"
}

# v0.18.3 of pkg/artifact, which v1.9.6 asks for, is refused by the proxy (403); v0.18.0 is served.
build_source-controller() {
  build_flux_controller source-controller "$FLUX_SOURCE_CONTROLLER_VERSION" \
    -replace=github.com/fluxcd/pkg/artifact=github.com/fluxcd/pkg/artifact@v0.18.0
}

# Flux's CRDs for the rehearsal: kustomize- and source-controller ship theirs in the module zip;
# helm-controller and notification-controller are not served as modules, but their api modules
# are, and controller-gen (the generator Flux itself uses) makes the CRDs from those types.
flux_crds_version() {
  echo "$FLUX_KUSTOMIZE_CONTROLLER_VERSION-$FLUX_SOURCE_CONTROLLER_VERSION-hc$FLUX_HELM_API_VERSION-nc$FLUX_NOTIFICATION_API_VERSION"
}

build_flux-crds() {
  local version src out
  version=$(flux_crds_version)
  src=$cache/flux-crds/$version/src out=$cache/flux-crds/$version/crds
  mkdir -p "$src"; rm -rf "$out"; mkdir -p "$out"
  printf '%s\n' "module tools/flux-crds

go 1.26

require (
	github.com/fluxcd/helm-controller/api $FLUX_HELM_API_VERSION
	github.com/fluxcd/notification-controller/api $FLUX_NOTIFICATION_API_VERSION
	sigs.k8s.io/controller-tools $CONTROLLER_TOOLS_VERSION
)

tool sigs.k8s.io/controller-tools/cmd/controller-gen" >"$src/go.mod"
  printf '%s\n' 'package main' '' 'import (' \
    '	_ "github.com/fluxcd/helm-controller/api/v2"' \
    '	_ "github.com/fluxcd/notification-controller/api/v1"' \
    '	_ "github.com/fluxcd/notification-controller/api/v1beta3"' ')' '' 'func main() {}' >"$src/main.go"
  (cd "$src" && go mod tidy && go build -o controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen && \
    ./controller-gen crd paths="$(go list -m -f '{{.Dir}}' github.com/fluxcd/helm-controller/api)/v2/..." output:crd:dir="$out" && \
    ./controller-gen crd paths="$(go list -m -f '{{.Dir}}' github.com/fluxcd/notification-controller/api)/..." output:crd:dir="$out")
  cp "$cache/kustomize-controller/$FLUX_KUSTOMIZE_CONTROLLER_VERSION/src/config/crd/bases/"*.yaml "$out/"
  cp "$cache/source-controller/$FLUX_SOURCE_CONTROLLER_VERSION/src/config/crd/bases/"*.yaml "$out/"
  # The cache's link farm is for binaries; the CRDs are found through .tools/flux-crds.
  mkdir -p "$cache/flux-crds/$version/bin"
}

# Our lister of the kinds a kube-apiserver serves by default (scripts/tools/builtin-kinds), one build
# per pinned minor ($BUILTIN_KINDS_1_33 …), keyed by that release and a hash of the lister.
builtin_kinds_release() {
  local pin=BUILTIN_KINDS_${1//./_}
  [ -n "${!pin:-}" ] || fail "no pin $pin in scripts/tools/versions.env for builtin-kinds-$1"
  echo "${!pin}"
}

builtin_kinds_version() {
  local sum
  sum=$(sha256sum <"$repo/scripts/tools/builtin-kinds/main.go" | cut -c1-12)
  echo "$(builtin_kinds_release "$1")-$sum"
}

build_builtin_kinds() {
  local minor=$1 v version
  v=$(builtin_kinds_release "$minor") version=$(builtin_kinds_version "$minor")
  local src=$cache/builtin-kinds-$minor/$version/src
  mkdir -p "$src"
  cp "$repo/scripts/tools/builtin-kinds/main.go" "$src/"
  build_with_wrapper "builtin-kinds-$minor" "$version" "module tools/builtin-kinds

go 1.26

require k8s.io/kubernetes $v

replace (
$(kubernetes_replaces "$v")
)" "$(kubernetes_ldflags "$v")" .
  mv "$cache/builtin-kinds-$minor/$version/bin/builtin-kinds" "$cache/builtin-kinds-$minor/$version/bin/builtin-kinds-$minor"
}

version_of() {
  case $1 in
    helm) echo "$HELM_VERSION" ;; helmfile) echo "$HELMFILE_VERSION" ;; yq) echo "$YQ_VERSION" ;;
    kubernetes) echo "$KUBERNETES_VERSION" ;; etcd) echo "$ETCD_VERSION" ;; kwok) echo "$KWOK_VERSION" ;;
    flux-build) flux_build_version ;;
    kustomize-controller) echo "$FLUX_KUSTOMIZE_CONTROLLER_VERSION" ;;
    source-controller) echo "$FLUX_SOURCE_CONTROLLER_VERSION" ;;
    flux-crds) flux_crds_version ;;
    actionlint) echo "$ACTIONLINT_VERSION" ;;
    builtin-kinds-1.*) builtin_kinds_version "${1#builtin-kinds-}" ;;
    *) fail "unknown tool family '$1'. Known: helm helmfile yq kubernetes etcd kwok flux-build kustomize-controller source-controller flux-crds actionlint builtin-kinds-<minor>" ;;
  esac
}

ensure() {
  local family=$1 version dir
  version=$(version_of "$family")
  dir=$cache/$family/$version
  if [ -f "$dir/.built" ]; then
    echo "build-tools: $family $version is cached ($dir)" >&2
  else
    require_go
    echo "build-tools: building $family $version ..." >&2
    local start=$SECONDS
    # Build into a fresh folder; .built is written last so an interrupted build is redone.
    rm -rf "$dir/bin"
    case $family in
      builtin-kinds-*) build_builtin_kinds "${family#builtin-kinds-}" >&2 ;;
      *) "build_$family" >&2 ;;
    esac
    touch "$dir/.built"
    echo "build-tools: built $family $version in $((SECONDS - start))s" >&2
  fi
  mkdir -p "$links"
  [ ! -d "$dir/crds" ] || ln -sfn "$dir/crds" "$repo/.tools/flux-crds"
  local f
  # An empty bin/ (flux-crds has only CRDs) links nothing: the glob would stay a literal '*'.
  for f in "$dir/bin"/*; do
    if [ -e "$f" ]; then ln -sfn "$f" "$links/$(basename "$f")"; fi
  done
}

families=("$@")
[ ${#families[@]} -gt 0 ] || families=(helm helmfile yq kwok etcd kubernetes flux-build source-controller kustomize-controller flux-crds actionlint)
for family in "${families[@]}"; do version_of "$family" >/dev/null; done
for family in "${families[@]}"; do ensure "$family"; done
# Links that point nowhere (an older build's, or the literal '*' an empty bin/ once left) go.
find "$links" -maxdepth 1 -xtype l -delete
echo "build-tools: tools ready in $links" >&2
