//! Property tests of the configuration parsers.
//!
//! 1. A generated valid configuration, written out in normal form by
//!    tandem and parsed again, is unchanged.
//! 2. Arbitrary bytes (and arbitrary lines made of real directive names)
//!    never panic any parser.

use proptest::prelude::*;
use std::collections::BTreeSet;
use tandem::config::{self, authkeys, hacf, haresources, Texts};

/// A valid ha.cf + haresources + authkeys, as text, and the local node.
#[derive(Debug, Clone)]
struct Generated {
    ha_cf: String,
    haresources: String,
    authkeys: String,
    node: String,
}

fn node_names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set("[a-z][a-z0-9-]{0,8}", 1..5).prop_map(|s| s.into_iter().collect())
}

fn time_text(micros: u64) -> impl Strategy<Value = String> {
    // The same time in each of Heartbeat's spellings that can express it.
    let mut forms = vec![format!("{micros}us")];
    if micros.is_multiple_of(1000) {
        forms.push(format!("{}ms", micros / 1000));
    }
    if micros.is_multiple_of(1_000_000) {
        forms.push(format!("{}", micros / 1_000_000));
        forms.push(format!("{}s", micros / 1_000_000));
    } else if micros.is_multiple_of(1000) {
        forms.push(format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000));
    }
    prop::sample::select(forms)
}

fn medium(i: usize, nodes: Vec<String>) -> BoxedStrategy<String> {
    let mut choices: Vec<BoxedStrategy<String>> = vec![
        Just(format!("bcast eth{i}")).boxed(),
        (1u16..=65535, 1u8..=255, 0u8..=1)
            .prop_map(move |(p, t, l)| format!("mcast eth{i} 239.255.0.{} {p} {t} {l}", i + 1))
            .boxed(),
        (1u16..=65535, 0u8..=255, 0u8..=1)
            .prop_map(move |(p, h, l)| format!("mcast6 eth{i} ff02::{:x} {p} {h} {l}", i + 1))
            .boxed(),
        Just(format!("ucast eth{i} 192.0.2.{}", i + 1)).boxed(),
        Just(format!("ucast6 eth{i} 2001:db8::{:x}", i + 1)).boxed(),
        Just(format!("ucast6 eth{i} fe80::{:x}%eth{i}", i + 1)).boxed(),
        Just(format!("serial /dev/ttyS{i}")).boxed(),
    ];
    if nodes.len() >= 2 {
        choices.push(
            Just(format!(
                "ppp /dev/ttyUSB{i} {}=198.51.100.{} {}=198.51.100.{}",
                nodes[0],
                2 * i + 1,
                nodes[1],
                2 * i + 2
            ))
            .boxed(),
        );
    }
    prop::strategy::Union::new(choices).boxed()
}

fn resource(group: usize, slot: usize) -> impl Strategy<Value = String> {
    let n = group * 10 + slot + 1;
    prop_oneof![
        Just(format!("198.51.100.{n}")),
        Just(format!("198.51.100.{n}/24/eth2")),
        (0u8..=32).prop_map(move |p| format!("IPaddr2::192.0.2.{n}/{p}/eth0")),
        Just(format!(
            "IPaddr::192.0.2.{n}/255.255.255.0/eth1/192.0.2.255"
        )),
        Just(format!("IPaddr2::192.0.2.{n}/24/eth0:vip{n}")),
        Just(format!("IPv6addr::2001:db8::{n:x}/64/eth0")),
        Just(format!("SendArp::203.0.113.{n}/eth0")),
        Just(format!("svc{n}")),
        Just(format!("Filesystem::/dev/sd{n}::/data{n}::ext4")),
        Just(format!("ocf:heartbeat:Dummy::state=/run/d{n}::fake=x")),
    ]
}

fn auth_key(index: u8) -> impl Strategy<Value = String> {
    prop_oneof![
        Just(format!("{index} crc")),
        "[A-Za-z0-9!#%&*+.@^_~-]{1,24}".prop_map(move |k| format!("{index} md5 {k}")),
        "[A-Za-z0-9!#%&*+.@^_~-]{1,24}".prop_map(move |k| format!("{index} sha1 {k}")),
        "[A-Za-z0-9!#%&*+.@^_~-]{1,24}".prop_map(move |k| format!("{index} sha256 {k}")),
    ]
}

fn generated() -> impl Strategy<Value = Generated> {
    node_names().prop_flat_map(|nodes| {
        let keepalive_us = 1u64..5_000_000;
        (Just(nodes), keepalive_us)
            .prop_flat_map(|(nodes, ka)| {
                let deadtime = (2 * ka + 1)..(2 * ka + 60_000_000);
                (Just(nodes), Just(ka), deadtime)
            })
            .prop_flat_map(|(nodes, ka, dt)| {
                let media_count = 1usize..6;
                let n = nodes.clone();
                let media = media_count.prop_flat_map(move |c| {
                    (0..c).map(|i| medium(i, n.clone())).collect::<Vec<_>>()
                });
                let group_nodes = prop::collection::vec(prop::sample::select(nodes.clone()), 0..4);
                let groups = group_nodes.prop_flat_map(|gn| {
                    gn.into_iter()
                        .enumerate()
                        .map(|(g, node)| {
                            let count = 1usize..4;
                            count.prop_flat_map(move |c| {
                                let node = node.clone();
                                (0..c)
                                    .map(|s| resource(g, s))
                                    .collect::<Vec<_>>()
                                    .prop_map(move |rs| format!("{node} {}", rs.join(" ")))
                            })
                        })
                        .collect::<Vec<_>>()
                });
                let indexes = prop::collection::btree_set(0u8..=15, 1..4);
                let keys = indexes.prop_flat_map(|ix: BTreeSet<u8>| {
                    let ix: Vec<u8> = ix.into_iter().collect();
                    (
                        ix.iter().map(|&i| auth_key(i)).collect::<Vec<_>>(),
                        prop::sample::select(ix),
                    )
                });
                let optional = (
                    prop::option::of(prop::sample::select(vec!["native", "heartbeat", "auto"])),
                    prop::option::of(prop::sample::select(vec!["on", "off", "legacy"])),
                    prop::option::of(prop::sample::select(hacf::BAUDS.to_vec())),
                    prop::option::of(1u16..=65535),
                    prop::option::of(prop::sample::select(vec!["file", "time"])),
                    any::<bool>(),
                );
                (
                    Just(nodes),
                    time_text(ka),
                    time_text(dt),
                    media,
                    groups,
                    keys,
                    optional,
                    prop::sample::select(vec![0usize, 1, 2, 3]),
                )
            })
            .prop_map(|(nodes, ka, dt, media, groups, (keys, sign), opt, local)| {
                let (wire, failback, baud, udpport, genmethod, realtime) = opt;
                let mut ha_cf = String::from("# generated\n");
                for n in &nodes {
                    ha_cf.push_str(&format!("node {n}\n"));
                }
                ha_cf.push_str(&format!("keepalive {ka}\ndeadtime {dt}\ninitdead 3600\n"));
                if let Some(b) = baud {
                    ha_cf.push_str(&format!("baud {b}\n"));
                }
                if let Some(p) = udpport {
                    ha_cf.push_str(&format!("udpport {p}\n"));
                }
                for m in &media {
                    ha_cf.push_str(m);
                    ha_cf.push('\n');
                }
                if let Some(w) = wire {
                    ha_cf.push_str(&format!("wire {w}\n"));
                }
                if let Some(f) = failback {
                    ha_cf.push_str(&format!("auto_failback {f}\n"));
                }
                if let Some(g) = genmethod {
                    ha_cf.push_str(&format!("hbgenmethod {g}\n"));
                }
                ha_cf.push_str(&format!("realtime {realtime}\n"));
                let node = nodes[local % nodes.len()].clone();
                Generated {
                    ha_cf,
                    haresources: groups.join("\n"),
                    authkeys: format!("auth {sign}\n{}\n", keys.join("\n")),
                    node,
                }
            })
    })
}

fn parse(ha_cf: &str, haresources: &str, authkeys: &str, node: &str) -> config::Config {
    let texts = Texts {
        ha_cf: ("ha.cf", ha_cf.as_bytes()),
        haresources: ("haresources", haresources.as_bytes()),
        authkeys: ("authkeys", authkeys.as_bytes()),
    };
    let (config, diags) = config::parse(&texts, node);
    let errors: Vec<String> = diags.errors().map(|d| d.to_string()).collect();
    match config {
        Some(c) => c,
        None => panic!("refused: {errors:?}\n--- ha.cf\n{ha_cf}--- haresources\n{haresources}\n--- authkeys\n{authkeys}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normal_form_parses_back_unchanged(g in generated()) {
        let first = parse(&g.ha_cf, &g.haresources, &g.authkeys, &g.node);
        let ha_cf = first.hacf.to_text();
        let haresources = haresources::to_text(&first.groups);
        let authkeys = first.authkeys.to_text();
        let second = parse(&ha_cf, &haresources, &authkeys, &g.node);
        prop_assert_eq!(&first, &second);
        // The normal form is a fixed point.
        prop_assert_eq!(second.hacf.to_text(), ha_cf);
        prop_assert_eq!(haresources::to_text(&second.groups), haresources);
        prop_assert_eq!(second.authkeys.to_text(), authkeys);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = hacf::parse("ha.cf", &bytes);
        let _ = authkeys::parse("authkeys", &bytes);
        let nodes = ["alpha".to_string()];
        let _ = haresources::parse("haresources", &bytes, Some(&nodes));
        let _ = haresources::parse("haresources", &bytes, None);
        let texts = Texts { ha_cf: ("a", &bytes), haresources: ("b", &bytes), authkeys: ("c", &bytes) };
        let _ = config::parse(&texts, "alpha");
    }

    #[test]
    fn arbitrary_directive_lines_never_panic(
        lines in prop::collection::vec(
            (prop::sample::select(hacf::DIRECTIVES.iter().map(|d| d.name).collect::<Vec<_>>()),
             prop::collection::vec("[ -~]{0,12}", 0..6)),
            0..24),
        resources in prop::collection::vec("[ -~]{0,40}", 0..8),
        keys in prop::collection::vec("[ -~]{0,30}", 0..8),
    ) {
        let mut ha_cf = String::new();
        for (directive, values) in &lines {
            ha_cf.push_str(directive);
            for v in values {
                ha_cf.push(' ');
                ha_cf.push_str(v);
            }
            ha_cf.push('\n');
        }
        let haresources = resources.join("\n");
        let authkeys = keys.join("\n");
        let texts = Texts {
            ha_cf: ("ha.cf", ha_cf.as_bytes()),
            haresources: ("haresources", haresources.as_bytes()),
            authkeys: ("authkeys", authkeys.as_bytes()),
        };
        let (config, diags) = config::parse(&texts, "alpha");
        // Either a configuration or at least one error, never both.
        prop_assert!(config.is_some() != diags.has_errors());
    }
}
