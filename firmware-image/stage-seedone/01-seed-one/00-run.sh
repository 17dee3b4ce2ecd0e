#!/bin/bash -e
# pi-gen, on the build host: the overlay that build-overlay.sh assembled (units, scripts, firewall,
# avahi, configuration, the release in /opt/seed-one/slots/a) and Node 24 at /usr/bin/node.
# SEED_ONE_OVERLAY and SEED_ONE_NODE_TARBALL are exported by the config build-image.sh writes.
cp -a "${SEED_ONE_OVERLAY}/." "${ROOTFS_DIR}/"
node_dir=$(mktemp -d)
tar -xzf "${SEED_ONE_NODE_TARBALL}" -C "${node_dir}" package/bin/node package/LICENSE
install -m 0755 "${node_dir}/package/bin/node" "${ROOTFS_DIR}/usr/bin/node"
install -D -m 0644 "${node_dir}/package/LICENSE" "${ROOTFS_DIR}/usr/share/doc/seed-one-node/LICENSE"
rm -rf "${node_dir}"
