/** The driver options of Docker's networks (`-o KEY=VALUE`, and what inspect shows), by their Docker names. */

/** every driver: the MTU of the network's interfaces */
export const OPT_MTU = 'com.docker.network.driver.mtu';
/** bridge: the Linux bridge's name */
export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
/** bridge: false makes the ports isolated (members cannot talk to each other) */
export const OPT_ICC = 'com.docker.network.bridge.enable_icc';
/** bridge: marks the default bridge */
export const OPT_DEFAULT_BRIDGE = 'com.docker.network.bridge.default_bridge';
export const OPT_IP_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
export const OPT_HOST_BINDING_IPV4 = 'com.docker.network.bridge.host_binding_ipv4';
/** overlay: the VXLAN network identifier */
export const OPT_VNI = 'com.docker.network.driver.overlay.vxlanid_list';
/** bridge: IPv4 / IPv6 gateway mode: nat (masquerade, the default) or routed (no NAT: IPv6 only in ctrnet) */
export const OPT_GATEWAY_MODE_IPV4 = 'com.docker.network.bridge.gateway_mode_ipv4';
export const OPT_GATEWAY_MODE_IPV6 = 'com.docker.network.bridge.gateway_mode_ipv6';
