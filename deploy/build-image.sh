#!/usr/bin/env bash
# Builds docker/Dockerfile without a Docker daemon (Debian's buildah, vfs storage, chroot
# isolation) and checks the image: `tandem --help` and `tandem doctor` must succeed inside it.
#
# Usage: deploy/build-image.sh [--tag TAG] [--dockerfile FILE] [--no-check]
#   --tag TAG          image name to commit (default tandem:cpu)
#   --dockerfile FILE  Dockerfile to build (default docker/Dockerfile)
#   --no-check         build only
#
# The Dockerfile starts FROM debian:bookworm. When that image is neither in buildah's storage nor
# pullable (a machine that reaches Debian's mirrors but not Docker Hub), the script makes it with
# debootstrap from the machine's own Debian mirror and stores it under that name, so the build
# itself is unchanged. Exits 77 (the CTest skip code) with the reason when the machine cannot
# build images: no buildah, or buildah cannot create a container here.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=tandem:cpu
dockerfile=docker/Dockerfile
check=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) tag="$2"; shift ;;
    --dockerfile) dockerfile="$2"; shift ;;
    --no-check) check=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "build-image.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ -f "$dockerfile" ]] || { echo "build-image.sh: no Dockerfile at '$dockerfile'" >&2; exit 2; }

skip() { echo "build-image.sh: skipped: $*"; exit 77; }
log() { echo "build-image.sh: $(date +%T) $*"; }

command -v buildah > /dev/null ||
  skip "buildah is not installed (deploy/install-deps.sh --image-tools installs it and debootstrap)"
bah=(buildah --storage-driver vfs)

# Can this machine run a build container at all (user namespaces, mounts)?
probe=$("${bah[@]}" from scratch 2>&1) ||
  skip "buildah cannot create a container on this machine: ${probe##*$'\n'}"
"${bah[@]}" rm "$probe" > /dev/null

base=docker.io/library/debian:bookworm
if "${bah[@]}" inspect --type image "$base" > /dev/null 2>&1; then
  log "base image $base is in buildah's storage"
elif timeout 60 "${bah[@]}" pull -q "$base" > /dev/null 2>&1; then
  log "pulled $base"
else
  command -v debootstrap > /dev/null ||
    skip "$base cannot be pulled and debootstrap (to make it from Debian's mirror) is not installed"
  # The machine's own Debian mirror, as apt is configured here.
  mirror=$(grep -hoE '^(URIs:|deb) *(\[[^]]*\] *)?https?://[^ ]+/debian/?( |$)' \
             /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
           grep -oE 'https?://[^ ]+' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  log "$base cannot be pulled; making it with debootstrap from $mirror"
  rootfs=$(mktemp -d /var/tmp/tandem-bookworm.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$rootfs.log" 2>&1 || {
    tail -n 20 "$rootfs.log" >&2
    echo "build-image.sh: debootstrap failed (log above)" >&2
    exit 1
  }
  rm -f "$rootfs.log"
  # As in Debian's official image: apt lists and caches are not part of the base.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  ctr=$("${bah[@]}" from scratch)
  mnt=$("${bah[@]}" mount "$ctr")
  cp -a "$rootfs"/. "$mnt"/
  "${bah[@]}" umount "$ctr" > /dev/null
  "${bah[@]}" config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
  "${bah[@]}" commit -q "$ctr" "$base" > /dev/null
  "${bah[@]}" rm "$ctr" > /dev/null
  rm -rf "$rootfs"
  trap - EXIT
  log "stored $base (debootstrap minbase)"
fi

log "building $dockerfile as $tag"
start=$SECONDS
# The build context has no .git: the revision goes in as a build argument (runs' git_revision.txt).
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
[[ $revision == unknown || -z $(git status --porcelain --untracked-files=no 2>/dev/null) ]] ||
  revision="$revision (with uncommitted changes)"
"${bah[@]}" bud --isolation chroot --pull=never --layers -f "$dockerfile" -t "$tag" \
  --build-arg TANDEM_REVISION="$revision" .
log "built $tag in $((SECONDS - start)) s"

[[ $check -eq 1 ]] || exit 0
ctr=$("${bah[@]}" from "$tag")
trap '"${bah[@]}" rm "$ctr" > /dev/null 2>&1 || true' EXIT
log "tandem --help in $tag"
help=$("${bah[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/tandem --help)
echo "$help" | head -n 5
log "tandem doctor in $tag"
"${bah[@]}" run --isolation chroot "$ctr" -- /usr/local/bin/tandem doctor
log "image $tag checked"
