#!/bin/sh
# dhclient's script in test/dhcp-name.test.ts: applies the lease the way Debian's dhclient-script does,
# to the interface and the resolv.conf of the test's own namespaces (the script writes nothing else).
set -e
# shellcheck disable=SC2154 # dhclient sets reason, interface and new_* in the environment
case "$reason" in
  PREINIT) ip link set dev "$interface" up ;;
  BOUND | RENEW | REBIND | REBOOT)
    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
    {
      echo "search $new_domain_name"
      for server in $new_domain_name_servers; do echo "nameserver $server"; done
    } > /etc/resolv.conf
    ;;
esac
