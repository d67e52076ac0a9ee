//! cib.xml for Pacemaker 2.1 (schema pacemaker-3.9), with the IDs crmsh
//! gives the same configuration, so that `crm_diff` finds cib.xml equal
//! to what configure.crm builds.

use super::plan::{Location, Op, Plan, Primitive};
use std::fmt::Write;

/// Pacemaker 2.1.5's feature set: a higher one makes its tools refuse
/// the file.
pub const FEATURE_SET: &str = "3.16.1";
pub const SCHEMA: &str = "pacemaker-3.9";

/// XML attribute text.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            c => s.push(c),
        }
    }
    s
}

fn nvpairs(s: &mut String, indent: &str, set: &str, pairs: &[(String, String)]) {
    for (k, v) in pairs {
        let _ = writeln!(
            s,
            "{indent}<nvpair name=\"{}\" value=\"{}\" id=\"{set}-{}\"/>",
            escape(k),
            escape(v),
            escape(k)
        );
    }
}

fn op(s: &mut String, indent: &str, prim: &str, o: &Op) {
    let _ = write!(
        s,
        "{indent}<op name=\"{}\" interval=\"{}\"",
        o.name, o.interval
    );
    if let Some(t) = &o.timeout {
        let _ = write!(s, " timeout=\"{t}\"");
    }
    if let Some(f) = o.on_fail {
        let _ = write!(s, " on-fail=\"{f}\"");
    }
    let _ = writeln!(s, " id=\"{prim}-{}-{}\"/>", o.name, o.interval);
}

fn primitive(s: &mut String, indent: &str, p: &Primitive) {
    let _ = write!(
        s,
        "{indent}<primitive id=\"{}\" class=\"{}\"",
        p.id, p.class
    );
    if let Some(provider) = &p.provider {
        let _ = write!(s, " provider=\"{}\"", escape(provider));
    }
    let _ = write!(s, " type=\"{}\"", escape(&p.agent));
    if p.params.is_empty() && p.ops.is_empty() {
        let _ = writeln!(s, "/>");
        return;
    }
    let _ = writeln!(s, ">");
    if !p.params.is_empty() {
        let set = format!("{}-instance_attributes", p.id);
        let _ = writeln!(s, "{indent}  <instance_attributes id=\"{set}\">");
        nvpairs(s, &format!("{indent}    "), &set, &p.params);
        let _ = writeln!(s, "{indent}  </instance_attributes>");
    }
    if !p.ops.is_empty() {
        let _ = writeln!(s, "{indent}  <operations>");
        for o in &p.ops {
            op(s, &format!("{indent}    "), &p.id, o);
        }
        let _ = writeln!(s, "{indent}  </operations>");
    }
    let _ = writeln!(s, "{indent}</primitive>");
}

fn meta_set(s: &mut String, tag: &str, set: &str, pairs: &[(String, String)]) {
    if pairs.is_empty() {
        return;
    }
    let _ = writeln!(s, "    <{tag}>");
    let _ = writeln!(s, "      <meta_attributes id=\"{set}\">");
    nvpairs(s, "        ", set, pairs);
    let _ = writeln!(s, "      </meta_attributes>");
    let _ = writeln!(s, "    </{tag}>");
}

pub fn render(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<cib crm_feature_set=\"{FEATURE_SET}\" validate-with=\"{SCHEMA}\" epoch=\"1\" num_updates=\"0\" admin_epoch=\"0\">"
    );
    let _ = writeln!(s, "  <configuration>");
    let _ = writeln!(s, "    <crm_config>");
    let _ = writeln!(
        s,
        "      <cluster_property_set id=\"cib-bootstrap-options\">"
    );
    nvpairs(
        &mut s,
        "        ",
        "cib-bootstrap-options",
        &plan.properties,
    );
    let _ = writeln!(s, "      </cluster_property_set>");
    let _ = writeln!(s, "    </crm_config>");
    let _ = writeln!(s, "    <nodes>");
    for n in &plan.nodes {
        let _ = writeln!(
            s,
            "      <node id=\"{}\" uname=\"{}\"/>",
            n.id,
            escape(&n.name)
        );
    }
    let _ = writeln!(s, "    </nodes>");
    let _ = writeln!(s, "    <resources>");
    for g in &plan.groups {
        let _ = writeln!(s, "      <group id=\"{}\">", g.id);
        for p in &g.primitives {
            primitive(&mut s, "        ", p);
        }
        let _ = writeln!(s, "      </group>");
    }
    for c in &plan.clones {
        let _ = writeln!(s, "      <clone id=\"{}\">", c.id);
        primitive(&mut s, "        ", &c.primitive);
        let _ = writeln!(s, "      </clone>");
    }
    let _ = writeln!(s, "    </resources>");
    let _ = writeln!(s, "    <constraints>");
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
                    "      <rsc_location id=\"{id}\" rsc=\"{rsc}\" score=\"{score}\" node=\"{}\"/>",
                    escape(node)
                );
            }
            Location::Reachable {
                id,
                rsc,
                attribute,
                score,
            } => {
                let _ = writeln!(s, "      <rsc_location id=\"{id}\" rsc=\"{rsc}\">");
                let _ = writeln!(s, "        <rule score=\"{score}\" id=\"{id}-rule\">");
                let _ = writeln!(
                    s,
                    "          <expression operation=\"gt\" attribute=\"{attribute}\" value=\"0\" id=\"{id}-rule-expression\"/>"
                );
                let _ = writeln!(s, "        </rule>");
                let _ = writeln!(s, "      </rsc_location>");
            }
        }
    }
    let _ = writeln!(s, "    </constraints>");
    meta_set(&mut s, "rsc_defaults", "rsc-options", &plan.rsc_defaults);
    meta_set(&mut s, "op_defaults", "op-options", &plan.op_defaults);
    let _ = writeln!(s, "  </configuration>");
    let _ = writeln!(s, "  <status/>");
    let _ = writeln!(s, "</cib>");
    s
}
