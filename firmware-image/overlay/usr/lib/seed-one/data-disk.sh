#!/usr/bin/env bash
# The USB SSD as Seed One's data directory (/var/lib/seed-one), on the image only.
#
#   data-disk.sh prepare   first boot (seed-one-firstboot.service): find the disk; a disk of ours is
#                          mounted, a blank one is formatted and mounted, and one that holds anything
#                          else is left untouched and recorded as waiting for the owner's consent
#   data-disk.sh apply     seed-one-disk.service: carries out the owner's answer, which the daemon
#                          writes to <data dir>/appliance/disk-decision.json (POST
#                          /api/appliance/disk-consent): "erase" formats the disk and moves the data
#                          directory onto it, "keep" leaves the disk alone
#
# The state, read by the daemon (GET /api/appliance/disk-consent), is $STATE_DIR/state.json:
#   { "state": "none|ready|pending|declined|failed", "disk": {...} | null, "updatedAt", "message" }
# Only root writes it. The daemon's decision names the disk by the id recorded here, and the id is
# recomputed from the disk itself before anything is erased, so a decision can only ever erase the
# disk the owner was shown, unchanged since.
#
# Environment (defaults are the box's): SEED_ONE_DATA_DIR, SEED_ONE_DISK_STATE_DIR, SEED_ONE_FSTAB,
# and SEED_ONE_DATA_DISK, a device to use instead of the first USB disk (an NVMe SSD on a Pi 5).
set -euo pipefail

DATA_DIR=${SEED_ONE_DATA_DIR:-/var/lib/seed-one}
STATE_DIR=${SEED_ONE_DISK_STATE_DIR:-/var/lib/seed-one-disk}
FSTAB=${SEED_ONE_FSTAB:-/etc/fstab}
STATE=$STATE_DIR/state.json
DECISION=$DATA_DIR/appliance/disk-decision.json
LABEL=seedone-data
recorded=null
staging=""

say() { echo "data-disk: $*" >&2; }

# The file system on a device, probed from the device itself (blkid -p: no udev database needed).
probe() {
  local key value fstype="" label="" uuid=""
  while IFS='=' read -r key value; do
    case "$key" in
      TYPE) fstype=$value ;;
      LABEL) label=$value ;;
      UUID) uuid=$value ;;
    esac
  done < <(blkid -p -o export "$1" 2>/dev/null || true)
  jq -n --arg fstype "$fstype" --arg name "$label" --arg uuid "$uuid" \
    '{fstype: $fstype, label: $name, uuid: $uuid} | map_values(if . == "" then null else . end)'
}

# One disk and its partitions, as JSON.
describe() {
  local dev=$1 parts="[]" part size
  while read -r part size; do
    parts=$(jq --arg path "$part" --argjson size "$size" --argjson fs "$(probe "$part")" \
      '. + [{path: $path, name: ($path | split("/") | last), sizeBytes: $size} + $fs]' <<<"$parts")
  done < <(lsblk --noheadings --raw --paths --bytes --output NAME,TYPE,SIZE "$dev" | awk '$2 == "part" { print $1, $3 }')
  lsblk --json --bytes --nodeps --output PATH,SIZE,MODEL,SERIAL "$dev" |
    jq --argjson parts "$parts" --argjson fs "$(probe "$dev")" \
      '.blockdevices[0] | {path: .path, model: .model, serial: .serial, sizeBytes: .size} + $fs + {partitions: $parts}'
}

# The disk as the owner is shown it, with an id that changes when the disk or its partitions do.
disk_record() {
  local description
  description=$(describe "$1")
  jq --arg id "$(sha256sum <<<"$description" | cut -c1-16)" '. + {id: $id}' <<<"$description"
}

# The device to use: SEED_ONE_DATA_DISK, else the largest whole disk on USB; nothing when there is none.
find_disk() {
  if [[ -n "${SEED_ONE_DATA_DISK:-}" ]]; then
    echo "$SEED_ONE_DATA_DISK"
    return
  fi
  lsblk --json --bytes --nodeps --output PATH,TYPE,TRAN,SIZE |
    jq -r '[.blockdevices[] | select(.type == "disk" and .tran == "usb")] | sort_by(-.size) | .[0].path // empty'
}

write_state() { # state disk-json message
  local tmp="$STATE.tmp"
  mkdir -p "$STATE_DIR"
  jq -n --arg state "$1" --argjson disk "$2" --arg message "$3" --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    '{state: $state, disk: $disk, updatedAt: $at, message: $message}' >"$tmp"
  chmod 0644 "$tmp"
  mv "$tmp" "$STATE"
}

# The first partition of a disk (sda1, nvme0n1p1, loop0p1 alike).
first_partition() {
  lsblk --noheadings --raw --paths --output NAME,TYPE "$1" | awk '$2 == "part" { print $1; exit }'
}

fstab_entry() { # uuid
  local line="UUID=$1 $DATA_DIR ext4 defaults,noatime,nofail,x-systemd.device-timeout=30s 0 2"
  # one line for the data directory: a previous disk's line is replaced
  local others
  others=$(awk -v dir="$DATA_DIR" '$2 != dir' "$FSTAB" 2>/dev/null || true)
  printf '%s\n%s\n' "$others" "$line" | sed '/^$/d' >"$FSTAB.tmp"
  mv "$FSTAB.tmp" "$FSTAB"
}

# The daemon must not write while its directory moves; outside a systemd boot (tests) there is none.
daemon() { # start|stop
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl "$1" seed-one.service
  else
    say "not under systemd: seed-one.service left alone ($1)"
  fi
}

release_staging() {
  if [[ -n "$staging" ]]; then
    mountpoint -q "$staging" && umount "$staging"
    rmdir "$staging"
    staging=""
  fi
}

# Mounts a disk of ours at the data directory, moving what the directory already holds onto it.
adopt() { # partition
  local part=$1 uuid
  uuid=$(blkid --match-tag UUID --output value "$part")
  staging=$(mktemp -d)
  mount -o noatime "$part" "$staging"
  mkdir -p "$DATA_DIR"
  if [[ -n "$(ls -A "$DATA_DIR")" ]]; then
    cp -a "$DATA_DIR/." "$staging/"
    # only what arrived intact leaves the SD card
    diff -r --exclude=lost+found "$DATA_DIR" "$staging" >/dev/null
    find "$DATA_DIR" -mindepth 1 -delete
  fi
  chown "$(stat -c %u:%g "$DATA_DIR")" "$staging"
  chmod 0700 "$staging"
  release_staging
  fstab_entry "$uuid"
  mount -o noatime "UUID=$uuid" "$DATA_DIR"
}

erase_and_adopt() { # device
  local dev=$1 part
  say "formatting $dev as $LABEL"
  wipefs --all --quiet "$dev"
  printf 'label: gpt\n,,L\n' | sfdisk --quiet "$dev"
  partx --update "$dev" 2>/dev/null || true
  if command -v udevadm >/dev/null; then udevadm settle || true; fi
  part=$(first_partition "$dev")
  [[ -n "$part" ]] || { say "no partition appeared on $dev"; return 1; }
  mkfs.ext4 -q -F -L "$LABEL" -m 0 "$part"
  adopt "$part"
}

prepare() {
  local dev record ours
  dev=$(find_disk)
  if [[ -z "$dev" ]]; then
    write_state none null "no USB disk: the data stays on the SD card"
    return
  fi
  record=$(disk_record "$dev")
  ours=$(jq -r --arg ours "$LABEL" '[.partitions[] | select(.label == $ours)][0].path // empty' <<<"$record")
  if [[ -n "$ours" ]]; then
    adopt "$ours"
    write_state ready "$record" "a Seed One data disk: mounted"
  elif [[ "$(jq '.partitions | length' <<<"$record")" == 0 && -z "$(wipefs --noheadings --output TYPE "$dev")" ]]; then
    erase_and_adopt "$dev"
    write_state ready "$(disk_record "$dev")" "a blank disk: formatted and mounted"
  else
    write_state pending "$record" "the disk holds data: the owner decides on the TV whether to erase it"
  fi
}

apply() {
  [[ -f "$DECISION" ]] || { say "no decision to apply"; return; }
  local decision disk_id dev live
  decision=$(jq -r '.decision // empty' "$DECISION" 2>/dev/null || true)
  disk_id=$(jq -r '.diskId // empty' "$DECISION" 2>/dev/null || true)
  # the decision is consumed whatever happens next: the path unit must not start this again
  rm -f "$DECISION"
  recorded=$(jq -c '.disk // null' "$STATE")
  if [[ "$(jq -r .state "$STATE")" != pending || "$disk_id" != "$(jq -r '.id // empty' <<<"$recorded")" ]]; then
    say "refused: the decision names no disk that is waiting for consent"
    return 1
  fi
  dev=$(jq -r .path <<<"$recorded")
  live=$(disk_record "$dev" 2>/dev/null || echo null)
  if [[ "$(jq -r '.id // empty' <<<"$live")" != "$disk_id" ]]; then
    write_state failed "$recorded" "the disk changed or was removed since the owner was asked: nothing was erased"
    return 1
  fi
  case "$decision" in
    keep)
      write_state declined "$recorded" "the owner kept the disk's data: the data stays on the SD card"
      ;;
    erase)
      daemon stop
      # any step that fails ends the script (set -e; a function called from a condition would lose
      # that), and the trap still records the failure and starts the daemon again
      trap 'release_staging; write_state failed "$recorded" "formatting failed: see journalctl -u seed-one-disk"; daemon start' EXIT
      erase_and_adopt "$dev"
      trap - EXIT
      write_state ready "$(disk_record "$dev")" "erased at the owner's request, formatted and mounted"
      daemon start
      ;;
    *)
      say "refused: unknown decision \"$decision\""
      return 1
      ;;
  esac
}

case "${1:-}" in
  prepare) prepare ;;
  apply) apply ;;
  *)
    echo "usage: $0 prepare|apply" >&2
    exit 2
    ;;
esac
