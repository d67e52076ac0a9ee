#!/bin/sh
# Guest alpha: the active node and director. Runs until beta says "die",
# then dies as a crashed node would: every tandem process killed -9, its
# Ethernet link down. Its serial keepalives stop with it.
NODE=alpha PEER=beta PEER_IP=192.0.2.2
. /director-common.sh
ip addr add 192.0.2.1/24 dev br0
tandem run --node alpha > /tmp/tandem.log 2>&1 &
wait_for 90 has_vip || { echo "DIRECTOR-FAIL: alpha never took the VIP"; show; exit 1; }
wait_for 30 directing || { echo "DIRECTOR-FAIL: no director on alpha"; show; exit 1; }
wait_for 30 master_sync || { echo "DIRECTOR-FAIL: no master sync daemon on alpha"; show; exit 1; }
echo "ALPHA-ACTIVE"
ipvsadm -L --daemon
# Beta asks for the crash once it has seen traffic and synced connections.
nc -l -p 9999 > /tmp/order
echo "ALPHA-ORDER $(cat /tmp/order)"
kill -9 $(pidof tandem)
ip link set eth0 down
echo "ALPHA-DEAD"
# Stay powered until beta is done (it says so on the serial cable, free
# now that tandem is dead here): QEMU can hang a guest whose peer left.
stty -F /dev/ttyS1 115200 raw -echo
timeout 200 grep -q -m1 BETA-DONE /dev/ttyS1
echo "ALPHA-OK"
# Beta powers off right after saying so; give it the time to, so that its
# QEMU never runs on with this one gone.
sleep 5
