/** `ctrnet help`: the text, as `ctrnet`, `ctrnet help` and `ctrnet --help` print it. */

export const HELP = `Usage: ctrnet [-H unix:///PATH] COMMAND

Containers:
  run [OPTIONS] IMAGE [COMMAND] [ARG...]    create and start a container
  create [OPTIONS] IMAGE [COMMAND] [ARG...] create a container
  start [-a] [-i] CONTAINER...             start containers
  stop [-t SECONDS] CONTAINER...           stop containers
  restart, kill [-s SIGNAL], rm [-f], wait CONTAINER...
  ps [-a] [-q]                             list containers
  inspect NAME...                          low-level information (containers, networks, images)
  logs [-f] [-t] [--tail N] CONTAINER      a container's output
  exec [-i] [-t] [-d] [-e K=V] [-w DIR] CONTAINER COMMAND...
  port CONTAINER [PORT[/PROTO]]            published ports
  explain [--lang en|zh] [--json] CONTAINER the kernel objects that give it its network (exit 3 on a mismatch)
Images:
  image import FILE|- NAME | image ls | image rm NAME   (also: import, images, rmi, tag)
Networks:
  network create [-d bridge|macvlan|ipvlan] [--subnet CIDR] [--gateway IP] [--ip-range CIDR]
                 [--aux-address NAME=IP] [--internal] [--label K=V] [-o com.docker.network.bridge.name=NAME]
                 [-o com.docker.network.bridge.enable_icc=false] [-o com.docker.network.driver.mtu=N]
                 [-o parent=IF[.VLAN]] [-o macvlan_mode=bridge|private|vepa|passthru] [-o ipvlan_mode=l2|l3|l3s] NAME
  network ls | inspect NAME... | rm NAME... | prune
  topology [--format text|json|dot|svg] [--width PX]   the host's picture: bridges, ports, containers
  network connect [--ip IP] [--alias A] [--link C:ALIAS] NET CONTAINER | network disconnect [-f] NET CONTAINER
  rename CONTAINER NEW_NAME
Daemon:
  version, info, system reload (re-apply the firewall rules)

run/create options: -d, --rm, -i, -t, --name NAME, -e K=V, -w DIR, -h/--hostname NAME,
  -p [IP:][HOST_PORT:]CTR_PORT[/tcp|udp], --network bridge|host|none|container:NAME|NET,
  --ip IP, --network-alias NAME, --dns IP, --dns-search DOMAIN, --dns-option OPT, --add-host NAME:IP|host-gateway,
  --link CONTAINER[:ALIAS], -P/--publish-all, --expose PORT, --sysctl K=V, --domainname NAME,
  --mac-address MAC, --entrypoint CMD, -l K=V
Environment: CTRNET_HOST=unix:///run/ctrnet/ctrnet.sock selects the daemon (as -H does).
`;
