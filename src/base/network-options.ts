/** The driver options of Docker's networks (`-o KEY=VALUE`, and what inspect shows), by their Docker names. */
import { EngineError } from './errors';

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

/** DriverOpts of an endpoint: per-interface sysctls (Docker 27+), "net.ipv4.conf.IFNAME.KEY=V,…". */
export const OPT_ENDPOINT_SYSCTLS = 'com.docker.network.endpoint.sysctls';

/**
 * The sysctls an endpoint asks for, checked as Docker checks them: only per-interface keys
 * (net.ipv4.conf.IFNAME.*, net.ipv6.conf.IFNAME.*, net.mpls.conf.IFNAME.*), with a value.
 */
export function endpointSysctls(driverOpts: Record<string, string> | undefined): [string, string][] {
  const raw = driverOpts?.[OPT_ENDPOINT_SYSCTLS];
  if (!raw) return [];
  return raw.split(',').map((kv) => {
    const eq = kv.indexOf('=');
    const key = eq < 0 ? kv.trim() : kv.slice(0, eq).trim();
    if (eq < 0 || !/^net\.(ipv4|ipv6|mpls)\.conf\.IFNAME\.[a-z0-9_]+$/.test(key)) {
      throw new EngineError('INVALID_PARAMETER', `invalid sysctl "${kv}" in ${OPT_ENDPOINT_SYSCTLS}`, { hint: 'write net.ipv4.conf.IFNAME.KEY=VALUE (IFNAME stands for the interface)' });
    }
    return [key, kv.slice(eq + 1).trim()];
  });
}
