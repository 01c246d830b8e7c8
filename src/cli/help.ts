/** `ctrnet help`: the text, as `ctrnet`, `ctrnet help` and `ctrnet --help` print it. */

export const HELP = `Usage: ctrnet [-H unix:///PATH] COMMAND

Containers:
  run [OPTIONS] IMAGE [COMMAND] [ARG...]    create and start a container
  create [OPTIONS] IMAGE [COMMAND] [ARG...] create a container
  start [-a] [-i] CONTAINER...             start containers
  stop [-t SECONDS] CONTAINER...           stop containers
  restart, kill [-s SIGNAL], rm [-f] [-v], wait CONTAINER...
  ps [-a] [-q]                             list containers
  inspect NAME...                          low-level information (containers, networks, images)
  logs [-f] [-t] [--tail N] CONTAINER      a container's output
  exec [-i] [-t] [-d] [-e K=V] [-w DIR] CONTAINER COMMAND...
  port CONTAINER [PORT[/PROTO]]            published ports
  explain [--lang en|zh] [--json] CONTAINER the kernel objects that give it its network (exit 3 on a mismatch)
  update [--memory SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N] [--cpuset-cpus LIST]
         [--pids-limit N] [--restart POLICY] CONTAINER...   change limits live, and the restart policy
Images:
  pull [--platform OS/ARCH] NAME[:TAG|@DIGEST]   from its registry (credentials of login)
  push NAME[:TAG]                          to its registry
  login [-u USER] [--password-stdin] [SERVER] | logout [SERVER]
  load [-i FILE] | save [-o FILE] IMAGE...  docker save archives and OCI image layouts
  history IMAGE | export [-o FILE] CONTAINER
  image import [-c CHANGE] FILE|- NAME | image ls | image rm NAME | image inspect | image prune [-a]
        (also: import, images, rmi, tag SOURCE TARGET; image pull, push, load, save, history)
Networks:
  network create [-d bridge|macvlan|ipvlan|overlay] [--subnet CIDR] [--gateway IP] [--ip-range CIDR] (one of each per family)
                 [--ipv6] [--ipv4=false] [-o com.docker.network.bridge.gateway_mode_ipv6=nat|routed]
                 [--aux-address NAME=IP] [--internal] [--label K=V] [-o com.docker.network.bridge.name=NAME]
                 [-o com.docker.network.bridge.enable_icc=false] [-o com.docker.network.driver.mtu=N]
                 [-o parent=IF[.VLAN]] [-o macvlan_mode=bridge|private|vepa|passthru] [-o ipvlan_mode=l2|l3|l3s] NAME
  network ls | inspect NAME... | rm NAME... | prune
  topology [--format text|json|dot|svg] [--width PX]   the host's picture: bridges, ports, containers
  network connect [--ip IP] [--ip6 IP] [--alias A] [--link C:ALIAS] NET CONTAINER | network disconnect [-f] NET CONTAINER
  rename CONTAINER NEW_NAME
Volumes:
  volume create [-o type=tmpfs -o device=tmpfs -o o=size=10m] [--label K=V] [NAME]
  volume ls [-q] [-f name=…|label=…|dangling=true] | inspect NAME... | rm [-f] NAME... | prune
Daemon:
  version, info, system reload (re-apply the firewall rules)

run/create options: -d, --rm, -i, -t, --name NAME, -e K=V, -w DIR, -h/--hostname NAME,
  -p [IP:|[IPv6]:][HOST_PORT:]CTR_PORT[/tcp|udp], --network bridge|host|none|container:NAME|NET,
  --ip IP, --ip6 IP, --link-local-ip IP, --network-alias NAME, --dns IP, --dns-search DOMAIN, --dns-option OPT, --add-host NAME:IP|host-gateway,
  --link CONTAINER[:ALIAS], -P/--publish-all, --expose PORT, --sysctl K=V, --domainname NAME,
  --mac-address MAC, --entrypoint CMD, -l K=V,
  -u USER[:GROUP], --stop-signal SIG, --pull missing|always|never, --platform OS/ARCH
  -v NAME:/PATH[:ro] | -v /HOST:/PATH[:ro] | -v /PATH, --mount type=bind|volume|tmpfs,…, --tmpfs /PATH[:OPTS],
  --volumes-from CONTAINER[:ro], --read-only, --restart no|always|unless-stopped|on-failure[:N],
  --health-cmd CMD --health-interval D --health-timeout D --health-retries N --health-start-period D,
  --no-healthcheck, -m/--memory SIZE, --memory-swap SIZE, --cpus N, -c/--cpu-shares N, --cpuset-cpus LIST,
  --pids-limit N, --ulimit NAME=SOFT[:HARD], --shm-size SIZE
Environment: CTRNET_HOST=unix:///run/ctrnet/ctrnet.sock selects the daemon (as -H does).
`;
