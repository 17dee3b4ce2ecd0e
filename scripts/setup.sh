#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to run Seed One from this checkout:
# ffmpeg (and, with --tests, Chromium for the UI tests, shellcheck for the scripts and promtool from
# prometheus for /metrics, dnsmasq and dhclient for the DHCP name test) from apt, then the npm packages,
# which bring Node 24 as a devDependency. Idempotent: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v ffmpeg >/dev/null 2>&1 || packages+=(ffmpeg)
if [[ "${1:-}" == "--tests" ]]; then
  command -v chromium >/dev/null 2>&1 || packages+=(chromium)
  command -v shellcheck >/dev/null 2>&1 || packages+=(shellcheck)
  command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
  # the appliance tests: the image's firewall, and its data disk script on loop devices
  command -v nft >/dev/null 2>&1 || packages+=(nftables)
  command -v sfdisk >/dev/null 2>&1 || packages+=(fdisk)
  command -v jq >/dev/null 2>&1 || packages+=(jq)
  # the renditions test counts publish's ffmpeg runs through /usr/bin/time (test/helpers/ffmpeg-runs.ts)
  [[ -x /usr/bin/time ]] || packages+=(time)
  # the DHCP host name test: a router's dnsmasq and Debian's DHCP client in network namespaces
  command -v dnsmasq >/dev/null 2>&1 || packages+=(dnsmasq-base)
  command -v dhclient >/dev/null 2>&1 || packages+=(isc-dhcp-client)
  # the arm64 release test: qemu runs the image's arm64 Node with Debian's arm64 C and C++ libraries
  command -v qemu-aarch64-static >/dev/null 2>&1 || packages+=(qemu-user-static)
  command -v update-binfmts >/dev/null 2>&1 || packages+=(binfmt-support)
  [[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ]] || packages+=(libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross)
fi
sudo_if_needed=()
[[ "$(id -u)" == 0 ]] || sudo_if_needed=(sudo)
if (( ${#packages[@]} > 0 )); then
  echo "setup: installing ${packages[*]} from apt"
  "${sudo_if_needed[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_if_needed[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

if [[ ! -x node_modules/.bin/node ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# The arm64 release test runs the Node the image installs: the same package, version and sha256
# (firmware-image/inputs.env), unpacked in .cache/ (npm cannot install a package for another CPU).
if [[ "${1:-}" == "--tests" ]]; then
  # shellcheck source-path=SCRIPTDIR source=../firmware-image/inputs.env
  source firmware-image/inputs.env
  arm64_node=.cache/$NODE_PACKAGE-$NODE_VERSION
  if [[ ! -x $arm64_node/bin/node ]]; then
    echo "setup: $NODE_PACKAGE@$NODE_VERSION into $arm64_node"
    rm -rf "$arm64_node" && mkdir -p "$arm64_node"
    (cd "$arm64_node" && npm pack --silent "$NODE_PACKAGE@$NODE_VERSION" >/dev/null)
    tarball=$arm64_node/$NODE_PACKAGE-$NODE_VERSION.tgz
    echo "$NODE_TARBALL_SHA256  $tarball" | sha256sum --check --quiet
    tar -xzf "$tarball" -C "$arm64_node" --strip-components=1 package/bin/node
    rm "$tarball"
  fi
  # an arm64 process that starts another (the updater running a slot's migrations) needs the kernel to
  # hand arm64 programs to qemu: binfmt_misc, mounted by systemd on a full system, by hand in a container
  if [[ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]]; then
    echo "setup: registering qemu-aarch64 with binfmt_misc"
    mountpoint -q /proc/sys/fs/binfmt_misc || "${sudo_if_needed[@]}" mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    "${sudo_if_needed[@]}" update-binfmts --enable qemu-aarch64
  fi
fi
