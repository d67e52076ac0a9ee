//! Keepalive codec speed: encode + sign, and verify + decode, per method.
//!
//!     cargo bench --bench frame

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tandem::config::authkeys;
use tandem::wire::frame::{cluster_id, Frame, Kind, NodeState, Status};
use tandem::wire::serial::{self, Deframer};
use tandem::wire::Authenticator;

fn keepalive() -> Frame {
    Frame {
        kind: Kind::Keepalive,
        cluster: cluster_id("linux-ha"),
        source: 1,
        generation: 7,
        sequence: 123_456,
        status: Status {
            state: NodeState::Active,
            ping: 1,
            held: 0b0101,
            stopping: 0,
            standby: 0,
            failed: 0,
            intent: 0,
        },
        claim: None,
        acks: Vec::new(),
        probes: Vec::new(),
    }
}

fn codec(c: &mut Criterion) {
    for method in ["sha256", "sha1", "md5", "crc"] {
        let text = if method == "crc" {
            "auth 1\n1 crc\n".to_string()
        } else {
            format!("auth 1\n1 {method} 3f1c0e1a9b7d4e62a5c8f0d2b6e4a19c\n")
        };
        let auth = Authenticator::from(&authkeys::parse("k", text.as_bytes()).0.expect("keys"));
        let frame = keepalive();
        let mut buf = Vec::with_capacity(64);
        c.bench_function(&format!("keepalive encode+sign {method}"), |b| {
            b.iter(|| {
                buf.clear();
                black_box(&frame).encode(4, &auth, &mut buf);
                black_box(buf.len())
            })
        });
        let mut wire = Vec::new();
        frame.encode(4, &auth, &mut wire);
        let cluster = frame.cluster;
        c.bench_function(&format!("keepalive verify+decode {method}"), |b| {
            b.iter(|| Frame::decode(black_box(&wire), cluster, &auth).expect("decodes"))
        });
    }
    let auth = Authenticator::from(
        &authkeys::parse("k", b"auth 1\n1 sha256 k\n")
            .0
            .expect("keys"),
    );
    let mut wire = Vec::new();
    keepalive().encode(4, &auth, &mut wire);
    let mut line = Vec::new();
    c.bench_function("serial cobs encode", |b| {
        b.iter(|| {
            line.clear();
            serial::encode(black_box(&wire), &mut line);
            black_box(line.len())
        })
    });
    let mut encoded = Vec::new();
    serial::encode(&wire, &mut encoded);
    let mut d = Deframer::new();
    c.bench_function("serial deframe", |b| {
        b.iter(|| {
            d.push(black_box(&encoded));
            let mut n = 0;
            while d.next_item().is_some() {
                n += 1;
            }
            n
        })
    });
}

criterion_group!(benches, codec);
criterion_main!(benches);
