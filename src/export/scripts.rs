//! The same configuration as cib.xml, as the commands of the two shells
//! operators use: crmsh (`crm -f configure.crm`) and pcs (a shell script
//! of `pcs -f` commands on a CIB file, pushed at the end).

use super::plan::{Location, Op, Plan, Primitive};
use std::fmt::Write;

/// A value as crmsh reads it: bare when it is one plain word, else in
/// double quotes.
fn crm_value(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@,+%".contains(c));
    if plain {
        v.to_string()
    } else {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// A word as sh reads it.
pub fn sh_word(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/:@,+%=".contains(c));
    if plain {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', "'\\''"))
    }
}

fn crm_op(o: &Op) -> String {
    let mut s = format!(" op {} interval={}", o.name, o.interval);
    if let Some(t) = &o.timeout {
        let _ = write!(s, " timeout={t}");
    }
    if let Some(f) = o.on_fail {
        let _ = write!(s, " on-fail={f}");
    }
    s
}

fn crm_primitive(s: &mut String, p: &Primitive) {
    let _ = write!(s, "primitive {} {}", p.id, p.agent_spec());
    if !p.params.is_empty() {
        let _ = write!(s, " params");
        for (k, v) in &p.params {
            let _ = write!(s, " {k}={}", crm_value(v));
        }
    }
    for o in &p.ops {
        s.push_str(&crm_op(o));
    }
    s.push('\n');
}

/// configure.crm: `crm -f configure.crm` (with `CIB_file=FILE` to build a
/// CIB file instead of the live cluster's).
pub fn crm(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Written by tandem export-pacemaker: the configuration of cib.xml, for crmsh.\n# Run on a cluster node: crm -f configure.crm\n# Into a CIB file instead: CIB_file=FILE crm -f configure.crm\nconfigure"
    );
    let mut props = String::from("property");
    for (k, v) in &plan.properties {
        let _ = write!(props, " {k}={}", crm_value(v));
    }
    let _ = writeln!(s, "{props}");
    for n in &plan.nodes {
        let _ = writeln!(s, "node {}: {}", n.id, n.name);
    }
    for g in &plan.groups {
        for p in &g.primitives {
            crm_primitive(&mut s, p);
        }
        let ids: Vec<&str> = g.primitives.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(s, "group {} {}", g.id, ids.join(" "));
    }
    for c in &plan.clones {
        crm_primitive(&mut s, &c.primitive);
        let _ = writeln!(s, "clone {} {}", c.id, c.primitive.id);
    }
    for l in &plan.locations {
        match l {
            Location::Prefer {
                id,
                rsc,
                node,
                score,
            } => {
                let _ = writeln!(s, "location {id} {rsc} {score}: {node}");
            }
            Location::Reachable {
                id,
                rsc,
                attribute,
                score,
            } => {
                let _ = writeln!(s, "location {id} {rsc} rule {score}: {attribute} gt 0");
            }
        }
    }
    for (word, pairs) in [
        ("rsc_defaults", &plan.rsc_defaults),
        ("op_defaults", &plan.op_defaults),
    ] {
        if pairs.is_empty() {
            continue;
        }
        let mut line = word.to_string();
        for (k, v) in pairs.iter() {
            let _ = write!(line, " {k}={}", crm_value(v));
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(s, "commit");
    s
}

fn pcs_op(o: &Op, prim: &str) -> String {
    let mut s = format!(" {} interval={}", o.name, o.interval);
    if let Some(t) = &o.timeout {
        let _ = write!(s, " timeout={t}");
    }
    if let Some(f) = o.on_fail {
        let _ = write!(s, " on-fail={f}");
    }
    // The ID crmsh (and cib.xml) gives the operation.
    let _ = write!(s, " id={prim}-{}-{}", o.name, o.interval);
    s
}

fn pcs_primitive(p: &Primitive, tail: &str) -> String {
    let mut s = format!(
        "pcs -f \"$cib\" resource create {} {}",
        p.id,
        p.agent_spec()
    );
    for (k, v) in &p.params {
        let _ = write!(s, " {}", sh_word(&format!("{k}={v}")));
    }
    if !p.ops.is_empty() {
        s.push_str(" op");
        for o in &p.ops {
            s.push_str(&pcs_op(o, &p.id));
        }
    }
    let _ = write!(s, "{tail} --no-default-ops --force");
    s
}

/// configure.pcs: a shell script. On a cluster node it takes the live
/// CIB, builds the configuration in a copy and pushes it; with `CIB=FILE`
/// it only builds FILE (which must hold a CIB, e.g. `cibadmin --empty`).
pub fn pcs(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "#!/bin/sh\n# Written by tandem export-pacemaker: the configuration of cib.xml, for pcs.\n# Run on a cluster node: sh configure.pcs\n# Into a CIB file instead: CIB=FILE sh configure.pcs\n# (--force: pcs does not know tandem's agents' metadata until they are installed.)\nset -e\nif [ -n \"$CIB\" ]; then\n    cib=$CIB\nelse\n    cib=$(mktemp)\n    pcs cluster cib \"$cib\"\nfi"
    );
    let mut props = String::from("pcs -f \"$cib\" property set");
    for (k, v) in &plan.properties {
        if k == "cluster-name" {
            // pcs takes the name from corosync.conf and refuses to set it.
            continue;
        }
        let _ = write!(props, " {}", sh_word(&format!("{k}={v}")));
    }
    let _ = writeln!(s, "{props}");
    for g in &plan.groups {
        for p in &g.primitives {
            let _ = writeln!(s, "{}", pcs_primitive(p, &format!(" --group {}", g.id)));
        }
    }
    for c in &plan.clones {
        let _ = writeln!(
            s,
            "{}",
            pcs_primitive(&c.primitive, &format!(" clone {}", c.id))
        );
    }
    for l in &plan.locations {
        match l {
            Location::Prefer {
                id,
                rsc,
                node,
                score,
            } => {
                let _ = writeln!(
                    s,
                    "pcs -f \"$cib\" constraint location add {id} {rsc} {node} {score}"
                );
            }
            Location::Reachable {
                id,
                rsc,
                attribute,
                score,
            } => {
                let _ = writeln!(
                    s,
                    "pcs -f \"$cib\" constraint location {rsc} rule constraint-id={id} id={id}-rule score={score} {attribute} gt 0"
                );
            }
        }
    }
    for (word, set, pairs) in [
        ("resource defaults", "rsc-options", &plan.rsc_defaults),
        ("resource op defaults", "op-options", &plan.op_defaults),
    ] {
        if pairs.is_empty() {
            continue;
        }
        let mut line = format!("pcs -f \"$cib\" {word} set create id={set} meta");
        for (k, v) in pairs.iter() {
            let _ = write!(line, " {}", sh_word(&format!("{k}={v}")));
        }
        let _ = writeln!(s, "{line}");
    }
    let _ = writeln!(
        s,
        "if [ -z \"$CIB\" ]; then\n    pcs cluster cib-push \"$cib\" --config\n    rm -f \"$cib\"\nfi"
    );
    s
}
