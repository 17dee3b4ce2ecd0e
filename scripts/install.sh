#!/usr/bin/env bash
# Installs Seed One from this checkout on an existing Debian 12 / Raspberry Pi OS machine (the image in
# firmware-image/ is the other way): the daemon's user, the release in /opt/seed-one/slots/a with the
# `current` and `committed` pointers `seed-one update` switches, /etc/seed-one/seed-one.env, the units
# (seed-one.service, the daily update timer), and mDNS: an avahi service file where avahi-daemon is
# installed, else the daemon advertises seedone.local itself. Run scripts/setup.sh first.
#
#   sudo scripts/install.sh [--rpc-url URL --contract ADDRESS --deployment-block N] [--root DIR]
#   sudo scripts/install.sh --uninstall [--purge] [--root DIR]
#
# Idempotent: a second run changes nothing that is there (an installed release is left to
# `seed-one update`; the configuration file is only filled in, never replaced). --uninstall removes
# what the install added, except the data directory /var/lib/seed-one, which --purge removes too.
# --root DIR installs into DIR instead of / (a test, or a system being assembled): units are enabled
# there with `systemctl --root`, and nothing is started.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=/ uninstall=0 purge=0 rpc_url="" contract="" deployment_block=""
die() {
  echo "install: $*" >&2
  exit 1
}
say() { echo "install: $*"; }

while (($# > 0)); do
  case "$1" in
    --root) root=${2:-} && shift ;;
    --rpc-url) rpc_url=${2:-} && shift ;;
    --contract) contract=${2:-} && shift ;;
    --deployment-block) deployment_block=${2:-} && shift ;;
    --uninstall) uninstall=1 ;;
    --purge) purge=1 ;;
    *) die "unknown argument $1 (see the top of $0)" ;;
  esac
  shift
done
[[ -d "$root" ]] || die "--root $root is not a folder"
root=$(cd "$root" && pwd)
[[ "$(id -u)" == 0 ]] || die "run as root (sudo)"

opt=$root/opt/seed-one
etc=$root/etc/seed-one
units=$root/etc/systemd/system
avahi_service=$root/etc/avahi/services/seed-one.service
sysusers=$root/usr/lib/sysusers.d/seed-one.conf
node=$root/usr/bin/node
# A Node this script put at /usr/bin/node (no package owned that path), so that --uninstall removes it.
node_marker=$opt/installed-node
UNITS=(seed-one.service seed-one-update.service seed-one-update.timer)
ENABLE=(seed-one.service seed-one-update.timer)

# systemctl for this root: the running manager for /, offline (--root) otherwise.
live() { [[ "$root" == / && -d /run/systemd/system ]]; }
sysctl_() {
  if live; then systemctl "$@"; else systemctl --root="$root" "$@"; fi
}

install_node() {
  local version
  if [[ -x "$node" ]]; then
    version=$("$node" --version)
    [[ "$version" == v24.* ]] || die "Seed One runs on Node 24 at /usr/bin/node; $root/usr/bin/node is $version: replace it with Node 24, then run this again"
    return
  fi
  local ours=$repo/node_modules/node/bin/node
  [[ -x "$ours" ]] || die "no Node 24 at /usr/bin/node, and none in this checkout: run scripts/setup.sh first"
  version=$("$ours" --version)
  [[ "$version" == v24.* ]] || die "$ours is $version, not Node 24"
  install -D -m 0755 "$ours" "$node"
  install -D -m 0644 /dev/null "$node_marker"
  say "Node $version installed at /usr/bin/node"
}

install_release() {
  if [[ -L "$opt/current" ]]; then
    say "a release is installed ($(readlink "$opt/current")): left to seed-one update"
    return
  fi
  local slot=$opt/slots/a entries
  # the entries of a release, as `seed-one release` packs them (server/update/make-release.ts), the pages
  # built for the TV floor first if their sources changed (server/ui/ensure-ui-built.ts), the server built
  # into server/build (server/update/build-server.ts)
  entries=$("$node" --input-type=module -e "
    import { ensureUiBuilt } from '$repo/server/ui/ensure-ui-built.ts'
    import { buildServer } from '$repo/server/update/build-server.ts'
    import { checkoutEntries } from '$repo/server/update/make-release.ts'
    await ensureUiBuilt(line => console.error(line))
    await buildServer('$repo')
    console.log((await checkoutEntries('$repo')).join('\n'))")
  rm -rf "$slot"
  install -d -m 0755 "$slot"
  (cd "$repo" && tr '\n' '\0' <<<"$entries" | xargs -0 tar --create --file - --) | tar --extract --no-same-owner --file - --directory "$slot"
  ln -sfn slots/a "$opt/current.tmp" && mv -T "$opt/current.tmp" "$opt/current"
  ln -sfn slots/a "$opt/committed.tmp" && mv -T "$opt/committed.tmp" "$opt/committed"
  say "seed-one $("$node" -p "require('$slot/package.json').version") installed in /opt/seed-one/slots/a"
}

# Sets NAME=value in the configuration, replacing the line (or its commented-out form) if there is one.
set_config() {
  local file=$etc/seed-one.env
  if grep -qE "^#?$1=" "$file"; then
    sed -i -E "s|^#?$1=.*|$1=$2|" "$file"
  else
    echo "$1=$2" >>"$file"
  fi
}

install_config() {
  install -d -m 0755 "$etc"
  [[ -f "$etc/seed-one.env" ]] || install -m 0644 "$repo/systemd/seed-one.env" "$etc/seed-one.env"
  [[ -z "$rpc_url" ]] || set_config SEED_ONE_RPC_URL "$rpc_url"
  [[ -z "$contract" ]] || set_config SEED_ONE_CONTRACT "$contract"
  [[ -z "$deployment_block" ]] || set_config SEED_ONE_DEPLOYMENT_BLOCK "$deployment_block"
  grep -qE '^SEED_ONE_RPC_URL=.' "$etc/seed-one.env" ||
    say "no chain configured yet: set SEED_ONE_RPC_URL, SEED_ONE_CONTRACT and SEED_ONE_DEPLOYMENT_BLOCK in /etc/seed-one/seed-one.env"
  [[ -f "$etc/release-key.pub" ]] || say "no /etc/seed-one/release-key.pub: seed-one-update.service stays idle until the release key is there"
}

install_units() {
  install -d -m 0755 "$units"
  for unit in "${UNITS[@]}"; do install -m 0644 "$repo/systemd/$unit" "$units/$unit"; done
  install -D -m 0644 "$repo/systemd/seed-one.sysusers" "$sysusers"
  systemd-sysusers --root="$root"
  if [[ -x "$root/usr/sbin/avahi-daemon" ]]; then
    install -D -m 0644 "$repo/firmware-image/overlay/etc/avahi/services/seed-one.service" "$avahi_service"
    say "avahi-daemon is installed: it advertises the UI (_http._tcp) at $(hostname).local"
  else
    say "no avahi-daemon: the daemon advertises seedone.local itself (SEED_ONE_MDNS=off turns that off)"
  fi
  if live; then systemctl daemon-reload; fi
  sysctl_ enable "${ENABLE[@]}"
  if live; then
    systemctl start "${ENABLE[@]}"
    say "started: systemctl status seed-one"
  else
    say "not the running system (--root, or no systemd): units installed and enabled, nothing started"
  fi
}

uninstall() {
  if live; then
    systemctl disable --now "${ENABLE[@]}" 2>/dev/null || true
  elif [[ -f "$units/seed-one.service" ]]; then
    sysctl_ disable "${ENABLE[@]}"
  fi
  for unit in "${UNITS[@]}"; do rm -f "$units/$unit"; done
  if live; then systemctl daemon-reload; fi
  rm -f "$avahi_service"
  if [[ -f "$node_marker" ]]; then rm -f "$node"; fi
  rm -rf "$opt" "$etc"
  if grep -q '^seed-one:' "$root/etc/passwd" 2>/dev/null; then userdel --root "$root" seed-one; fi
  rm -f "$sysusers"
  if ((purge)); then
    rm -rf "$root/var/lib/seed-one"
    say "removed, with the data directory"
  else
    say "removed; the data directory /var/lib/seed-one is kept (--purge removes it)"
  fi
}

if ((uninstall)); then
  uninstall
  exit 0
fi
install_node
install_release
install_config
install_units
say "done"
