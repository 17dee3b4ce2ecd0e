#!/usr/bin/env bash
# The first boot of a Seed One image (seed-one-firstboot.service, once, before seed-one.service):
#  1. the host name: the image is "seedone", the name its DHCP requests carry (NetworkManager sends the
#     host name by default) and home routers put in their DNS (seedone, seedone.lan); when another
#     machine on the LAN already answers to seedone.local, this box becomes seedone-xxxx (four hex digits
#     of its machine id) and asks for a lease again under that name
#  2. the USB SSD becomes the data directory (data-disk.sh prepare; the TV asks before erasing data)
# The device keys are not made here: seed-one.service makes them on its first start, in its own data
# directory, as 0600 files only its user reads (server/identity/device-identity.ts).
set -euo pipefail

STATE_DIR=${SEED_ONE_DISK_STATE_DIR:-/var/lib/seed-one-disk}
NAME=seedone

say() { echo "firstboot: $*" >&2; }

# The addresses another host answers seedone.local with, if any: avahi resolves the name on the LAN,
# and our own avahi has already renamed itself (seedone-2.local) if it lost the name to that host.
taken_by_another() {
  local answer ours
  # avahi needs a moment on a fresh link before it answers
  for _ in 1 2 3 4 5; do
    answer=$(avahi-resolve --name -4 "$NAME.local" 2>/dev/null | awk '{ print $2 }') || true
    [[ -n "$answer" ]] && break
    sleep 2
  done
  [[ -n "$answer" ]] || return 1
  ours=$(hostname --all-ip-addresses)
  [[ " $ours " != *" $answer "* ]]
}

unique_hostname() {
  if ! command -v avahi-resolve >/dev/null; then
    say "avahi-utils missing: keeping the host name $(hostname)"
    return
  fi
  if taken_by_another; then
    local unique
    unique="$NAME-$(sha256sum /etc/machine-id | cut -c1-4)"
    say "$NAME.local is taken on this network: this box is $unique.local"
    hostnamectl set-hostname "$unique"
    sed -i "s/^127\.0\.1\.1\s.*/127.0.1.1\t$unique/" /etc/hosts
    avahi-set-host-name "$unique"
    renew_leases
  fi
}

# A router's DNS holds one address per name and gives it to the newest lease (dnsmasq does): this box's
# first lease took "seedone" from the first box. Reactivating each connection sends a DHCP request under
# the new name at once; the first box takes "seedone" back at its own next renewal.
renew_leases() {
  command -v nmcli >/dev/null || return 0
  local uuid type
  nmcli --terse --fields UUID,TYPE connection show --active | while IFS=: read -r uuid type; do
    [[ "$type" == loopback ]] || nmcli connection up uuid "$uuid" >/dev/null || say "could not renew the lease of $uuid"
  done
}

unique_hostname
/usr/lib/seed-one/data-disk.sh prepare
mkdir -p "$STATE_DIR"
touch "$STATE_DIR/firstboot-done"
say "done; seed-one.service starts next"
