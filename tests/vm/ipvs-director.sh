#!/bin/sh
# One guest with IPVS: the guest's own network namespace is the director;
# a client and six real servers (busybox httpd, each answering its name)
# live in namespaces of their own.
#
#   br-lan 192.0.2.0/24: director .1 and the VIP .10, client .2, and the
#     real servers d1..d3 (.11-.13) for direct routing and tunnelling
#     (VIP on lo or tunl0, ARP for it ignored)
#   br-nat 198.51.100.0/24: director .1, real servers n1..n3 (.11-.13)
#     for NAT, the director their gateway
#
# Each phase writes /tmp/ld.cf, has tandem director reload it, waits for
# the kernel to show what the phase asks, sends N requests from the
# client through the VIP and prints who answered. After each phase it
# prints `ipvsadm -Ln` and tandem's status JSON between markers: the test
# on the host compares them (ipvsadm is the independent oracle).
set -u
# iproute2's ip: busybox's shell would run its own applet for `ip`.
ip() { /usr/sbin/ip "$@"; }
VIP=192.0.2.10
say() { echo "GUEST: $*"; }
fail() { say "FAIL $*"; cat /tmp/director.log; exit 1; }

sysctl -qw net.ipv4.ip_forward=1
sysctl -qw net.ipv4.vs.conntrack=1 2>/dev/null
ip link add br-lan type bridge && ip link set br-lan up
ip link add br-nat type bridge && ip link set br-nat up
ip addr add 192.0.2.1/24 dev br-lan
ip addr add $VIP/32 dev br-lan
ip addr add 198.51.100.1/24 dev br-nat

# join NS BRIDGE ADDRESS: a namespace with a veth on BRIDGE.
join() {
    ip netns add "$1"
    ip link add "v-$1" type veth peer name eth0 netns "$1"
    ip link set "v-$1" master "$2" up
    ip -n "$1" link set lo up
    ip -n "$1" addr add "$3" dev eth0
    ip -n "$1" link set eth0 up
}
join client br-lan 192.0.2.2/24
ip -n client route add default via 192.0.2.1
for i in 1 2 3; do
    join "n$i" br-nat "198.51.100.1$i/24"
    ip -n "n$i" route add default via 198.51.100.1
    join "d$i" br-lan "192.0.2.1$i/24"
    ip netns exec "d$i" sh -c "
        sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
        sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
        /usr/sbin/ip addr add $VIP/32 dev lo
        /usr/sbin/ip link set tunl0 up
        sysctl -qw net.ipv4.conf.tunl0.rp_filter=0"
done
# serve NS: httpd in the foreground of a background job, so that its pid
# (ip netns exec execs it) is this one server's; all share one PID space.
serve() {
    /usr/sbin/ip netns exec "$1" httpd -f -p 80 -h "/tmp/www/$1" &
    echo $! > "/tmp/httpd.$1"
}
for s in n1 n2 n3 d1 d2 d3; do
    mkdir -p "/tmp/www/$s"
    echo "$s" > "/tmp/www/$s/index.html"
    serve "$s"
done

# conf SCHEDULER FORWARD "REALS" [EXTRA]: the director's configuration;
# a real server is IP:PORT or IP:PORT/WEIGHT.
conf() {
    {
        echo "checkinterval=1"
        echo "checktimeout=1"
        echo "failurecount=1"
        echo "quiescent=yes"
        echo "virtual=$VIP:80"
        for r in $3; do
            w=${r#*/}; [ "$w" = "$r" ] && w=1
            echo "	real=${r%/*} $2 $w"
        done
        echo "	scheduler=$1"
        echo "	service=http"
        echo "	checktype=negotiate"
        echo "	request=\"/index.html\""
        echo "	receive=\"^[nd][123]\""
        [ -n "${4:-}" ] && echo "	$4"
    } > /tmp/ld.cf
}

# wait_for PATTERN...: until `ipvsadm -Ln` shows every pattern (10 s).
wait_for() {
    i=0
    while [ $i -lt 100 ]; do
        ok=1
        out=$(ipvsadm -Ln)
        for p in "$@"; do echo "$out" | grep -Eq "$p" || ok=0; done
        [ $ok = 1 ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    echo "$out"
    fail "ipvsadm never showed: $*"
}

# traffic PHASE N: N requests from the client; one HITS line.
traffic() {
    : > /tmp/hits
    n=0
    while [ $n -lt "$2" ]; do
        # busybox's static wget crashes in its resolver; nc does not resolve.
        a=$(printf 'GET /index.html HTTP/1.0\r\n\r\n' | ip netns exec client nc -w 3 $VIP 80 | tail -1)
        echo "${a:-none}" >> /tmp/hits
        n=$((n + 1))
    done
    echo "HITS $1 $(sort /tmp/hits | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')"
}

# dump PHASE: the oracle's view and tandem's.
dump() {
    echo "IPVSADM-BEGIN $1"
    ipvsadm -Ln
    echo "IPVSADM-END $1"
    echo "STATUS-JSON $1 $(tandem director -c /tmp/ld.cf status --json)"
}

NAT="198.51.100.11:80 198.51.100.12:80 198.51.100.13:80"
LAN="192.0.2.11:80 192.0.2.12:80 192.0.2.13:80"

conf rr masq "$NAT"
tandem director -c /tmp/ld.cf > /tmp/director.log 2>&1 &
wait_for "TCP  $VIP:80 rr" "198.51.100.11:80 +Masq +1 " "198.51.100.12:80 +Masq +1 " "198.51.100.13:80 +Masq +1 "
say "director up"

# phase NAME SCHED FORWARD REALS N EXTRA -- PATTERNS...
phase() {
    name=$1 sched=$2 fwd=$3 reals=$4 n=$5 extra=$6
    shift 6
    conf "$sched" "$fwd" "$reals" "$extra"
    tandem director -c /tmp/ld.cf reload > /dev/null || fail "reload for $name"
    wait_for "$@"
    dump "$name"
    traffic "$name" "$n"
}

phase nat-rr rr masq "$NAT" 30 "" "$VIP:80 rr *$" "198.51.100.11:80 +Masq +1 "
phase nat-wrr wrr masq "198.51.100.11:80/1 198.51.100.12:80/2 198.51.100.13:80/3" 60 "" \
    "$VIP:80 wrr" "198.51.100.12:80 +Masq +2 " "198.51.100.13:80 +Masq +3 "
phase nat-wlc wlc masq "198.51.100.11:80/1 198.51.100.12:80/2 198.51.100.13:80/3" 60 "" \
    "$VIP:80 wlc"
phase nat-sh sh masq "$NAT" 20 "" "$VIP:80 sh"
phase nat-persistent rr masq "$NAT" 20 "persistent=300" "$VIP:80 rr persistent 300"
phase dr-rr rr gate "$LAN" 30 "" "$VIP:80 rr *$" "192.0.2.11:80 +Route +1 " "192.0.2.13:80 +Route +1 "
phase tun-rr rr ipip "$LAN" 30 "" "$VIP:80 rr *$" "192.0.2.11:80 +Tunnel +1 " "192.0.2.13:80 +Tunnel +1 "

# Every other scheduler this kernel has: programmed, and carrying traffic.
for sched in lc lblc lblcr dh sed nq fo ovf mh; do
    phase "nat-$sched" "$sched" masq "$NAT" 6 "" "$VIP:80 $sched"
done

# IPv6 beside IPv4 (NAT over 2001:db8::/32), and a firewall-mark service
# (programmed and compared with ipvsadm; no traffic: nothing here marks
# packets).
sysctl -qw net.ipv6.conf.all.forwarding=1
ip addr add 2001:db8::1/64 dev br-lan nodad
ip addr add 2001:db8::10/128 dev br-lan nodad
ip addr add 2001:db8:1::1/64 dev br-nat nodad
ip -n client addr add 2001:db8::2/64 dev eth0 nodad
ip -n client -6 route add default via 2001:db8::1
for i in 1 2 3; do
    ip -n "n$i" addr add "2001:db8:1::1$i/64" dev eth0 nodad
    ip -n "n$i" -6 route add default via 2001:db8:1::1
done
conf rr masq "$NAT"
{
    echo "virtual6=[2001:db8::10]:80"
    for i in 1 2 3; do echo "	real6=[2001:db8:1::1$i]:80 masq"; done
    echo "	scheduler=wrr"
    echo "	service=http"
    echo "	checktype=negotiate"
    echo "	request=\"/index.html\""
    echo "	receive=\"^n[123]\""
    echo "virtual=7"
    echo "	real=198.51.100.11:80 masq"
    echo "	real=198.51.100.12:80 masq 2"
    echo "	scheduler=sh"
    echo "	checktype=connect"
} >> /tmp/ld.cf
tandem director -c /tmp/ld.cf reload > /dev/null || fail "reload for IPv6 and fwmark"
wait_for "TCP  \[2001:db8::10\]:80 wrr" "\[2001:db8:1::13\]:80 +Masq +1 " "FWM  7 sh" "$VIP:80 rr *$"
dump ipv6-fwmark
: > /tmp/hits
n=0
while [ $n -lt 6 ]; do
    a=$(printf 'GET /index.html HTTP/1.0\r\n\r\n' | ip netns exec client nc -w 3 2001:db8::10 80 | tail -1)
    echo "${a:-none}" >> /tmp/hits
    n=$((n + 1))
done
echo "HITS ipv6 $(sort /tmp/hits | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')"

# A real server fails its check: quiescent, so weight 0; then it returns.
phase health-before rr masq "$NAT" 30 "" "$VIP:80 rr *$" "198.51.100.11:80 +Masq +1 " "198.51.100.12:80 +Masq +1 "
kill "$(cat /tmp/httpd.n2)"
wait_for "198.51.100.12:80 +Masq +0 "
dump health-down
traffic health-down 30
serve n2
wait_for "198.51.100.12:80 +Masq +1 "
dump health-back
traffic health-back 30

# Reconcile, not replay: a director killed and started again finds the
# service in the kernel and keeps it (its connection counter goes on from
# where it was: a flush and re-add would start it at 0). Another tool's
# service is left alone; cleanstop removes only the director's.
conns() { ipvsadm -Ln --stats | awk -v v="$VIP:80" '$2 == v { print $3 }'; }
before=$(conns)
ipvsadm -A -t 203.0.113.99:80 -s rr
kill -9 $(pidof tandem)
sleep 0.5
tandem director -c /tmp/ld.cf > /tmp/director2.log 2>&1 &
sleep 3
grep -q "change(s) applied" /tmp/director2.log && say "restart changed the table"
after=$(conns)
say "restart: connections $before -> $after"
[ "${after:-0}" -ge "${before:-1}" ] || fail "the restart flushed the service ($before -> $after)"
dump restart
tandem director -c /tmp/ld.cf stop > /dev/null
sleep 1
ipvsadm -Ln | grep -q "$VIP:80" && fail "cleanstop left the service"
ipvsadm -Ln | grep -q "203.0.113.99:80" || fail "the director removed a service it does not own"
say "cleanstop ok, untracked service kept"
echo "DIRECTOR-LOG-BEGIN"
cat /tmp/director.log /tmp/director2.log
echo "DIRECTOR-LOG-END"
say "IPVS-DONE"
