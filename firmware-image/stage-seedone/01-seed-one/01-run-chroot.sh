#!/bin/bash -e
# pi-gen, inside the image: the daemon's user, no usable login, and a check that Node 24 runs there.
systemd-sysusers
chown -R root:root /opt/seed-one
passwd --lock "${FIRST_USER_NAME}"
rm -f /etc/sudoers.d/010_pi-nopasswd
systemctl disable ssh.service 2>/dev/null || true
node_version=$(/usr/bin/node --version)
case "${node_version}" in
	v24.*) echo "Node ${node_version} at /usr/bin/node" ;;
	*) echo "expected Node 24 at /usr/bin/node, found ${node_version}" >&2; exit 1 ;;
esac
