//! Arbitrary datagrams fed to a running core: replay checks, status
//! handling and decisions must never panic on hostile input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::config::{authkeys, hacf::AutoFailback};
use tandem::time::{Instant, Time};
use tandem::core::{GroupParams, LinkParams, Node, Params};
use tandem::wire::{frame::cluster_id, Authenticator};

fuzz_target!(|data: &[u8]| {
    let auth = Authenticator::from(&authkeys::parse("a", b"auth 1\n1 crc\n").0.unwrap());
    let signer = auth.clone();
    let params = Params {
        cluster: cluster_id("fuzz"),
        nodes: vec!["a".into(), "b".into(), "c".into()],
        local: 0,
        links: vec![LinkParams {
            name: "l".into(),
            reaches: vec![0, 1, 2],
        }],
        groups: vec![
            GroupParams {
                key: "g0".into(),
                preferred: 0,
            },
            GroupParams {
                key: "g1".into(),
                preferred: 1,
            },
        ],
        keepalive: Time::from_millis(100),
        warntime: Time::from_millis(250),
        deadtime: Time::from_millis(500),
        initdead: Time::from_secs(1),
        auto_failback: AutoFailback::On,
        ping: true,
        fencing: true,
        stop_retries: 2,
        stop_retry_interval: Time::from_millis(100),
        log_badpack: true,
        migration_threshold: 2,
        failure_timeout: tandem::time::Time::from_secs(600),
        on_stop_failure: tandem::config::hacf::StopFailure::Block,
    };
    let auth = signer;
    let mut node = Node::new(
        params,
        auth.clone(),
        1,
        &[None, None, None],
        0b1,
        Instant(0),
    );
    let mut now = 0u64;
    // Length-prefixed frames, each after a time step; crc frames are easy
    // for the fuzzer to make authentic.
    let mut rest = data;
    while let [len, step, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        now += u64::from(*step) * 1000;
        let (frame, next) = tail.split_at(len);
        // Signed as it stands (crc), so that hostile but authentic frames
        // reach the state machine.
        let mut signed = frame.to_vec();
        if signed.len() >= 16 {
            signed[0] = 0x74;
            signed[1] = 0x6e;
            signed[2] = (signed[2] & 0x0f) | 0x10;
            signed[3] = 1;
            signed[4..6].copy_from_slice(&cluster_id("fuzz").to_be_bytes());
            signed[7] = (signed.len() - 16).min(255) as u8;
            signed.truncate(16 + usize::from(signed[7]));
            auth.sign(&mut signed);
        }
        node.handle_frame(Instant(now), 0, &signed);
        while node.poll_transmit().is_some() {}
        while node.poll_action().is_some() {}
        while node.poll_event().is_some() {}
        rest = next;
    }
});
