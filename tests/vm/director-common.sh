# Sourced by the director failover guests: NODE and PEER are set. Both
# guests join eth0 (the Ethernet link between them) to a bridge br0 on
# 192.0.2.0/24, and run tandem with a serial link and a ucast link. The
# group: the VIP, the IPVS sync daemon as master, and the director
# (ldirectord::ldirectord.cf, a drop-in Ultra Monkey line).
set -u
ip() { /usr/sbin/ip "$@"; }
VIP=192.0.2.10
GROUP=239.255.0.81
hostname "$NODE"
ip link add br0 type bridge mcast_snooping 0
ip link set eth0 master br0
ip link set eth0 up
ip link set br0 up
mkdir -p /etc/ha.d/resource.d /var/lib/tandem /run/tandem
cat > /etc/ha.d/ha.cf <<CF
keepalive 200ms
warntime 1
deadtime 2
initdead 4
baud 115200
serial /dev/ttyS1
ucast br0 $PEER_IP
node alpha
node beta
auto_failback off
realtime off
on_stop_failure block
CF
echo "alpha IPaddr2::$VIP/24/br0 LVSSyncDaemonSwap::master::br0::1::$GROUP ldirectord::ldirectord.cf" > /etc/ha.d/haresources
printf 'auth 1\n1 sha256 vm-director-test-key\n' > /etc/ha.d/authkeys
chmod 600 /etc/ha.d/authkeys
cat > /etc/ha.d/ldirectord.cf <<CF
checkinterval=1
checktimeout=2
logfile="/tmp/director.log"
virtual=$VIP:80
	real=192.0.2.11:80 gate
	real=192.0.2.12:80 gate
	scheduler=rr
	persistent=600
	service=http
	checktype=negotiate
	request="/index.html"
	receive="^r[12]"
CF

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
    n=$(( $1 * 5 )); shift
    while [ $n -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2; n=$((n - 1))
    done
    return 1
}
has_vip() { ip -4 addr show dev br0 | grep -q "inet $VIP/"; }
directing() { tandem director -c /etc/ha.d/ldirectord.cf status >/dev/null; }
master_sync() { ipvsadm -L --daemon | grep -q "master sync daemon"; }
show() {
    echo "---- $NODE: tandem.log"; cat /tmp/tandem.log
    echo "---- $NODE: director.log"; cat /tmp/director.log 2>/dev/null
    ipvsadm -Ln; ipvsadm -L --daemon; ip -4 addr show dev br0
}
