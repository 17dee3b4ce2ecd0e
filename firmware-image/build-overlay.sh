#!/usr/bin/env bash
# Assembles everything Seed One adds to Raspberry Pi OS Lite into one folder laid out as the image's
# root file system; stage-seedone copies it into the image. Nothing is downloaded.
#
#   firmware-image/build-overlay.sh <out-dir> --chain <file> --release <manifest.json> --release-key <key.pub>
#
#   --chain        SEED_ONE_RPC_URL, SEED_ONE_CONTRACT, SEED_ONE_DEPLOYMENT_BLOCK (and optionally
#                  SEED_ONE_MONITOR_URL, SEED_ONE_UPDATE_URL): the network this image's boxes join
#   --release      a signed release made by `seed-one release` on arm64 (its tarball beside it): checked
#                  against the key and installed into /opt/seed-one/slots/a
#   --release-key  the release public key, shipped as /etc/seed-one/release-key.pub
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
node=${NODE:-$repo/node_modules/.bin/node}

die() {
  echo "build-overlay: $*" >&2
  exit 1
}

out="" chain="" release="" key=""
while (($# > 0)); do
  case "$1" in
    --chain) chain=${2:-} && shift ;;
    --release) release=${2:-} && shift ;;
    --release-key) key=${2:-} && shift ;;
    -*) die "unknown option $1" ;;
    *)
      [[ -z "$out" ]] || die "one output folder only"
      out=$1
      ;;
  esac
  shift
done
[[ -n "$out" && -n "$chain" && -n "$release" && -n "$key" ]] ||
  die "usage: build-overlay.sh <out-dir> --chain <file> --release <manifest.json> --release-key <key.pub>"
[[ ! -e "$out" || -z "$(ls -A "$out")" ]] || die "$out is not empty"
"$node" --version | grep -q '^v24\.' || die "Node 24 is needed to check the release ($node): run scripts/setup.sh"

# The chain file: only the variables the daemon reads, each in the form it accepts.
check_chain() {
  local name value seen=""
  while IFS='=' read -r name value; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    case "$name" in
      SEED_ONE_RPC_URL | SEED_ONE_MONITOR_URL | SEED_ONE_UPDATE_URL)
        [[ "$value" =~ ^https?://[^[:space:]]+$ ]] || die "$chain: $name is not an http(s) URL: $value" ;;
      SEED_ONE_CONTRACT) [[ "$value" =~ ^0x[0-9a-fA-F]{40}$ ]] || die "$chain: $name is not an address: $value" ;;
      SEED_ONE_DEPLOYMENT_BLOCK) [[ "$value" =~ ^[0-9]+$ ]] || die "$chain: $name is not a block number: $value" ;;
      *) die "$chain: $name is not a chain setting" ;;
    esac
    seen="$seen $name"
  done <"$chain"
  for name in SEED_ONE_RPC_URL SEED_ONE_CONTRACT SEED_ONE_DEPLOYMENT_BLOCK; do
    [[ " $seen " == *" $name "* ]] || die "$chain: $name is missing"
  done
}
check_chain
openssl pkey -pubin -in "$key" -noout 2>/dev/null || die "$key is not a public key (PEM)"

mkdir -p "$out"
cp -a "$here/overlay/." "$out/"
chmod 0755 "$out"/usr/lib/seed-one/*.sh

units=$out/etc/systemd/system
install -d -m 0755 "$units" "$units/multi-user.target.wants" "$units/timers.target.wants" "$units/sysinit.target.wants"
# The monitor runs on the network's servers, not on a box.
for unit in seed-one.service seed-one-update.service seed-one-update.timer seed-one-firstboot.service seed-one-disk.path seed-one-disk.service; do
  install -m 0644 "$repo/systemd/$unit" "$units/$unit"
done
# enabled as `systemctl enable` would: the symlinks their [Install] sections name
for unit in seed-one.service seed-one-firstboot.service seed-one-disk.path; do
  ln -s "../$unit" "$units/multi-user.target.wants/$unit"
done
ln -s ../seed-one-update.timer "$units/timers.target.wants/seed-one-update.timer"
ln -s /lib/systemd/system/nftables.service "$units/sysinit.target.wants/nftables.service"
install -D -m 0644 "$repo/systemd/seed-one.sysusers" "$out/usr/lib/sysusers.d/seed-one.conf"

install -d -m 0755 "$out/etc/seed-one"
{
  cat "$repo/systemd/seed-one.env"
  echo
  echo "# The network this image was built for (firmware-image/build-overlay.sh --chain)."
  grep -E '^SEED_ONE_' "$chain"
} >"$out/etc/seed-one/seed-one.env"
chmod 0644 "$out/etc/seed-one/seed-one.env"
install -m 0644 "$key" "$out/etc/seed-one/release-key.pub"

"$node" "$repo/scripts/install-release.ts" "$release" "$key" "$out/opt/seed-one" || die "the release was refused"
echo "build-overlay: $out is ready"
