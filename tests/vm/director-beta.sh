#!/bin/sh
# Guest beta: the standby, two real servers (r1, r2: direct routing, the
# VIP on their lo) and a client in namespaces of its own on br0. Checks
# that alpha's director switches the client's requests, that alpha's
# master sync daemon fills beta's backup with the client's connections,
# then orders alpha's crash and checks that beta takes over the VIP, the
# director (IPVS table) and the master sync role, and that the client
# stays with its real server (the persistence template was synced).
NODE=beta PEER=alpha PEER_IP=192.0.2.1
. /director-common.sh
ip addr add 192.0.2.2/24 dev br0
join() {
    ip netns add "$1"
    ip link add "v-$1" type veth peer name eth0 netns "$1"
    ip link set "v-$1" master br0 up
    ip -n "$1" link set lo up
    ip -n "$1" addr add "$2" dev eth0
    ip -n "$1" link set eth0 up
}
join client 192.0.2.3/24
for i in 1 2; do
    join "r$i" "192.0.2.1$i/24"
    ip netns exec "r$i" sh -c "
        sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
        /usr/sbin/ip addr add $VIP/32 dev lo"
    mkdir -p "/tmp/www/r$i"; echo "r$i" > "/tmp/www/r$i/index.html"
    /usr/sbin/ip netns exec "r$i" httpd -f -p 80 -h "/tmp/www/r$i" &
done
get() {
    printf 'GET /index.html HTTP/1.0\r\n\r\n' | ip netns exec client nc -w 3 $VIP 80 | tail -1
}
# traffic NAME N: N requests; one line saying who answered.
traffic() {
    : > /tmp/hits; k=0
    while [ $k -lt "$2" ]; do a=$(get); echo "${a:-none}" >> /tmp/hits; k=$((k + 1)); done
    echo "HITS $1 $(sort /tmp/hits | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')"
}
# The standby's backup sync daemon: what LVSSyncDaemonSwap's stop leaves.
tandem action resource "LVSSyncDaemonSwap::master::br0::1::$GROUP" stop || { echo "DIRECTOR-FAIL: backup sync daemon"; exit 1; }
ipvsadm -L --daemon
# Start after alpha holds the VIP, so alpha is the active node.
wait_for 120 ip netns exec client ping -c1 -W1 $VIP || { echo "DIRECTOR-FAIL: VIP never answered"; show; exit 1; }
tandem run --node beta > /tmp/tandem.log 2>&1 &
wait_for 60 sh -c "[ \"\$(tandem cl-status nodestatus alpha)\" = active ]" || { echo "DIRECTOR-FAIL: alpha not seen"; show; exit 1; }
serving() { [ "$(get)" = r1 ] || [ "$(get)" = r2 ]; }
wait_for 60 serving || { echo "DIRECTOR-FAIL: the VIP does not serve"; show; exit 1; }
traffic before 20
has_vip && { echo "DIRECTOR-FAIL: beta holds the VIP while alpha is active"; show; exit 1; }
# The connections alpha's master sent, in beta's backup table.
synced() { ipvsadm -Lnc | grep -q "192.0.2.3"; }
wait_for 30 synced || { echo "DIRECTOR-FAIL: no connections synced to beta"; show; ipvsadm -Lnc; exit 1; }
echo "SYNCED $(ipvsadm -Lnc | grep -c 192.0.2.3)"
ipvsadm -Lnc | grep "192.0.2.3" | grep -i none | head -3
# nc waits for the listener to close: the client's end closes it.
echo die | timeout 3 nc 192.0.2.1 9999
echo "ORDERED-CRASH"
wait_for 30 has_vip || { echo "DIRECTOR-FAIL: beta did not take the VIP"; show; exit 1; }
wait_for 30 directing || { echo "DIRECTOR-FAIL: no director on beta"; show; exit 1; }
wait_for 30 master_sync || { echo "DIRECTOR-FAIL: beta's sync daemon is not master"; show; exit 1; }
wait_for 30 serving || { echo "DIRECTOR-FAIL: the VIP does not serve after the takeover"; show; exit 1; }
traffic after 20
echo "IPVSADM-BEGIN"; ipvsadm -Ln; echo "IPVSADM-END"
echo "DAEMONS $(ipvsadm -L --daemon | tr '\n' ';')"
echo "STATUS-JSON $(tandem director -c /etc/ha.d/ldirectord.cf status --json)"
show
echo "BETA-OK"
# Tell alpha (which waits on the serial cable) that it may power off.
tandem stop
wait_for 20 sh -c '! pidof tandem'
stty -F /dev/ttyS1 115200 raw -echo
# Once, and then power off at once: alpha waits a few seconds before it
# does, and a guest whose peer is gone can hang QEMU (see rig.sh).
echo BETA-DONE > /dev/ttyS1
