use super::*;

fn sync(token: &str) -> Result<SyncSwap, String> {
    match parse_resource(token)?.kind {
        ResourceKind::SyncDaemonSwap(s) => Ok(s),
        other => panic!("{token}: {other:?}"),
    }
}

#[test]
fn sync_daemon_swap_arguments() {
    let d = sync("LVSSyncDaemonSwap::master").unwrap();
    assert_eq!(
        (d.role, d.interface.as_str(), d.syncid),
        (SyncRole::Master, "eth0", 0)
    );
    let d = sync("LVSSyncDaemonSwap::backup::br0::7::239.255.0.81").unwrap();
    assert_eq!(d.group, Some("239.255.0.81".parse().unwrap()));
    for bad in [
        "LVSSyncDaemonSwap::slave",
        "LVSSyncDaemonSwap::master::eth0::300",
        "LVSSyncDaemonSwap::master::eth0::1::192.0.2.1",
        "LVSSyncDaemonSwap::master::../x",
        "LVSSyncDaemonSwap",
    ] {
        assert!(parse_resource(bad).is_err(), "{bad}");
    }
}

#[test]
fn relative_director_files_are_in_the_configuration_directory() {
    let dir = Path::new("/etc/ha.d");
    let file = |t: &str| one(t).kind.director_file(dir);
    assert_eq!(file("ldirectord"), Some(dir.join("ldirectord.cf")));
    assert_eq!(file("LVSDirector::www.cf"), Some(dir.join("www.cf")));
    assert_eq!(file("ldirectord::/srv/lvs.cf"), Some("/srv/lvs.cf".into()));
    assert_eq!(file("IPaddr2::192.0.2.10/24/eth0"), None);
    assert!(parse_resource("ldirectord::a.cf::b.cf").is_err());
}

#[test]
fn mac_takeover_and_dyndns_are_parsed_with_the_file() {
    assert_eq!(
        one("MacTakeover::eth0::02:00:5e:00:01:01").kind,
        ResourceKind::MacTakeover {
            device: "eth0".into(),
            mac: [2, 0, 0x5e, 0, 1, 1]
        }
    );
    assert!(parse_resource("MacTakeover::eth0::01:00:5e:00:01:01").is_err());
    assert!(parse_resource("MacTakeover::eth0").is_err());
    let ResourceKind::DynDns(d) =
        one("DynDNS::www.example.org::192.0.2.10::192.0.2.53::/etc/ha.d/k.key").kind
    else {
        panic!("not DynDNS");
    };
    assert_eq!((d.server.port(), d.ttl), (53, 60));
    assert!(parse_resource("DynDNS::www::192.0.2.10::192.0.2.53::relative.key").is_err());
}

fn one(token: &str) -> Resource {
    parse_resource(token).unwrap_or_else(|e| panic!("{token}: {e}"))
}

#[test]
fn bare_ipv4_is_ipaddr() {
    let r = one("192.0.2.10");
    assert_eq!(r.script, "IPaddr");
    assert_eq!(r.args, ["192.0.2.10"]);
}

#[test]
fn ipaddr_shorthand() {
    let r = one("IPaddr::192.0.2.3/28/eth0/192.0.2.15");
    let ResourceKind::IpAlias(a) = r.kind else {
        panic!()
    };
    assert_eq!(a.prefix, Some(28));
    assert_eq!(a.nic.as_deref(), Some("eth0"));
    assert_eq!(a.broadcast, Some(Ipv4Addr::new(192, 0, 2, 15)));
    // A part starting with a digit is the broadcast address.
    let r = one("IPaddr::192.0.2.3/255.255.255.0/192.0.2.255");
    let ResourceKind::IpAlias(a) = r.kind else {
        panic!()
    };
    assert_eq!(a.prefix, Some(24));
    assert_eq!(a.nic, None);
    assert_eq!(a.broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
}

#[test]
fn bare_address_with_shorthand() {
    let r = one("192.0.2.3/28/eth0/192.0.2.15");
    assert_eq!(r.script, "IPaddr");
    assert_eq!(r.args, ["192.0.2.3/28/eth0/192.0.2.15"]);
    assert!(matches!(
        r.kind,
        ResourceKind::IpAlias(IpAlias {
            prefix: Some(28),
            ..
        })
    ));
}

#[test]
fn ipaddr2_with_label() {
    let r = one("IPaddr2::192.0.2.10/24/eth0:vip/192.0.2.255");
    let ResourceKind::IpAlias(a) = r.kind else {
        panic!()
    };
    assert_eq!(a.label.as_deref(), Some("vip"));
    assert!(parse_resource("IPaddr2::192.0.2.10/24/eth0:waytoolonglabel").is_err());
    assert!(parse_resource("IPaddr2::192.0.2.10/33").is_err());
    assert!(parse_resource("IPaddr2::192.0.2.10/255.0.255.0").is_err());
}

#[test]
fn ipv6addr() {
    let r = one("IPv6addr::2001:db8::10/64/eth0");
    let ResourceKind::IpAlias(a) = r.kind else {
        panic!()
    };
    assert_eq!(a.prefix, Some(64));
    assert!(parse_resource("IPv6addr::2001:db8::10/129").is_err());
}

#[test]
fn scripts_and_ocf() {
    let r = one("Filesystem::/dev/sda1::/data1::ext2");
    assert_eq!(r.script, "Filesystem");
    assert_eq!(r.args, ["/dev/sda1", "/data1", "ext2"]);
    let r = one("ocf:heartbeat:IPaddr2::ip=192.0.2.1::cidr_netmask=24");
    assert_eq!(r.script, "ocf:heartbeat:IPaddr2");
    assert!(matches!(r.kind, ResourceKind::Ocf { ref params, .. } if params.len() == 2));
    assert!(parse_resource("../../bin/sh").is_err());
    assert!(parse_resource("ocf:heartbeat").is_err());
    assert!(parse_resource("ocf:heartbeat:IPaddr2::1x=2").is_err());
    assert!(parse_resource("httpd::::x").is_err());
}

#[test]
fn groups_with_continuation_and_comments() {
    let text = b"# comment\nalpha 192.0.2.10 \\\n  httpd # web\nbeta IPaddr2::192.0.2.11/24/eth0\n";
    let nodes = vec!["alpha".to_string(), "beta".to_string()];
    let (groups, d) = parse("haresources", text, Some(&nodes));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].key(), "192.0.2.10");
    assert_eq!(groups[0].resources.len(), 2);
    assert_eq!(groups[0].node.source.to_string(), "haresources:2");
    assert_eq!(
        to_text(&groups),
        "alpha 192.0.2.10 httpd\nbeta IPaddr2::192.0.2.11/24/eth0\n"
    );
}

#[test]
fn heartbeat_s_ocf_instance_form() {
    match parse_resource("OCF::Dummy::web").map(|r| r.kind) {
        Ok(ResourceKind::OcfInstance { agent, instance }) => {
            assert_eq!((agent.as_str(), instance.as_str()), ("Dummy", "web"));
        }
        other => panic!("{other:?}"),
    }
    for bad in ["OCF::Dummy", "OCF::Dummy::web::x", "OCF::../x::web"] {
        assert!(parse_resource(bad).is_err(), "{bad}");
    }
}
