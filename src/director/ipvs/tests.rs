use super::*;

fn web() -> ServiceKey {
    ServiceKey::Socket {
        protocol: 6,
        ip: "192.0.2.10".parse().unwrap(),
        port: 80,
    }
}

#[test]
fn a_new_service_carries_what_the_kernel_requires() {
    let conf = ServiceConf {
        scheduler: "wrr".into(),
        persistent: Some(300),
        netmask: 0xffff_ff00,
        one_packet: false,
    };
    let req = encode(&Op::AddService(web(), conf), 0x1a, 7);
    let msgs = messages(&req).unwrap();
    assert_eq!(msgs.len(), 1);
    let r = &msgs[0];
    assert_eq!((r.kind, r.seq), (0x1a, 7));
    assert_eq!(r.flags, NLM_F_REQUEST | NLM_F_ACK);
    assert_eq!(&r.payload[..2], &[CMD_NEW_SERVICE, IPVS_GENL_VERSION]);
    let top = attrs(&r.payload[4..]).unwrap();
    let svc = attrs(get(&top, ATTR_SERVICE).unwrap()).unwrap();
    assert_eq!(u16_of(get(&svc, SVC_AF)), Some(AF_INET));
    assert_eq!(get(&svc, SVC_PORT), Some(&[0, 80][..]));
    assert_eq!(&get(&svc, SVC_ADDR).unwrap()[..4], &[192, 0, 2, 10]);
    assert_eq!(get(&svc, SVC_SCHED_NAME), Some(&b"wrr\0"[..]));
    assert_eq!(u32_of(get(&svc, SVC_TIMEOUT)), Some(300));
    assert_eq!(get(&svc, SVC_NETMASK), Some(&[255, 255, 255, 0][..]));
    // The reply parser reads back what was written.
    let (key, back) = parse_service(r).unwrap();
    assert_eq!(key, web());
    assert_eq!(back.persistent, Some(300));
    assert_eq!(back.netmask, 0xffff_ff00);
}

#[test]
fn a_dest_round_trips() {
    let d = DestKey {
        ip: "2001:db8::2".parse().unwrap(),
        port: 8080,
    };
    let c = DestConf {
        forward: Forward::Masq,
        weight: 5,
    };
    let req = encode(&Op::AddDest(web(), d, c), 0x1a, 9);
    let msgs = messages(&req).unwrap();
    assert_eq!(parse_dest(&msgs[0], AF_INET).unwrap(), (d, c));
}

#[test]
fn malformed_replies_are_errors_not_panics() {
    let req = encode(&Op::DelService(web()), 0x1a, 1);
    for cut in 0..req.len() {
        let mut b = req[..cut].to_vec();
        if b.len() >= 4 {
            b[..4].copy_from_slice(&(cut as u32).to_ne_bytes());
        }
        if let Ok(msgs) = messages(&b) {
            for m in msgs {
                let _ = parse_service(&m);
                let _ = parse_dest(&m, AF_INET);
                let _ = parse_family(&m);
                let _ = error_code(&m);
            }
        }
    }
    // A length running past the buffer.
    let mut b = req.clone();
    b[..4].copy_from_slice(&10_000u32.to_ne_bytes());
    assert!(messages(&b).is_err());
}
