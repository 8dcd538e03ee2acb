//! ingress-nginx's status writer with the real kubectl: the ADDRESS column.
//!
//! The add-on's manifest is applied as kind's ingress guide does, after
//! labelling the node `ingress-ready=true` (kind's cluster config does that
//! for the node that maps ports 80/443).

use super::harness::{Sim, rows};

const ADDON: &str = include_str!("../../src/sim/ingress/addon.yaml");

fn ingress(name: &str, class: Option<&str>) -> String {
    let class = class
        .map(|c| format!("  ingressClassName: {c}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\nspec:\n{class}  rules:\n  - host: {name}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n"
    )
}

/// `kubectl get ingress` rows by name.
fn addresses(sim: &Sim) -> Vec<(String, String)> {
    let out = sim.kubectl(&["get", "ingress"]).ok();
    let table = rows(&out);
    assert_eq!(
        table[0],
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        "{out}"
    );
    // ADDRESS is empty for unowned Ingresses, which shifts the columns
    // `rows` splits on whitespace; read it from the fixed-width header.
    let header = out.lines().next().unwrap_or("");
    let (start, end) = (
        header.find("ADDRESS").unwrap_or(0),
        header.find("PORTS").unwrap_or(0),
    );
    out.lines()
        .skip(1)
        .map(|l| {
            let name = l.split_whitespace().next().unwrap_or("").to_string();
            let addr = l.get(start..end).unwrap_or("").trim().to_string();
            (name, addr)
        })
        .collect()
}

#[test]
fn owned_ingresses_show_localhost_and_others_stay_empty() {
    let sim = Sim::start_virtual();
    sim.kubectl(&[
        "label",
        "node",
        "kdrill-control-plane",
        "ingress-ready=true",
    ])
    .ok();
    sim.kubectl_stdin(&["apply", "-f", "-"], ADDON).ok();
    for (name, class) in [
        ("owned", Some("nginx")),
        ("classless", None),
        ("foreign", Some("traefik")),
    ] {
        sim.kubectl_stdin(&["apply", "-f", "-"], &ingress(name, class))
            .ok();
    }
    // On the virtual clock: move time five seconds between looks.
    let mut steps = 0;
    loop {
        let got = addresses(&sim);
        let of = |n: &str| {
            got.iter()
                .find(|(name, _)| name == n)
                .map(|(_, a)| a.clone())
                .unwrap_or_default()
        };
        if of("owned") == "localhost" && of("classless") == "localhost" {
            assert_eq!(of("foreign"), "", "{got:?}");
            break;
        }
        assert!(
            steps < 120,
            "ADDRESS never became localhost in 10 simulated minutes: {got:?}\n{}",
            sim.kubectl(&["get", "pods", "-n", "ingress-nginx", "-o", "wide"])
                .stdout
        );
        steps += 1;
        sim.advance("5s");
    }
    let jp = sim
        .kubectl(&[
            "get",
            "ingress",
            "owned",
            "-o",
            "jsonpath={.status.loadBalancer.ingress}",
        ])
        .ok();
    assert_eq!(jp, r#"[{"hostname":"localhost"}]"#);
    let describe = sim.kubectl(&["describe", "ingress", "owned"]).ok();
    let sync = describe
        .lines()
        .find(|l| l.contains("Scheduled for sync"))
        .unwrap_or_else(|| panic!("no Sync event:\n{describe}"));
    let cols: Vec<&str> = sync.split_whitespace().collect();
    assert_eq!(cols[..2], ["Normal", "Sync"], "{sync}");
    assert!(sync.contains("(x2 over"), "{sync}");
    assert!(
        sync.ends_with("nginx-ingress-controller  Scheduled for sync"),
        "{sync}"
    );
    let foreign = sim.kubectl(&["describe", "ingress", "foreign"]).ok();
    assert!(!foreign.contains("Scheduled for sync"), "{foreign}");
}

#[test]
fn bad_network_policy_and_ingress_get_the_apiservers_422() {
    let sim = Sim::start();
    let np = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/33
  - from:
    - ipBlock:
        cidr: 10.0.0.0/16
        except: [192.168.0.0/24]
";
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], np).err();
    assert!(
        err.starts_with("The NetworkPolicy \"np\" is invalid: \n* spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)\n* spec.ingress[1].from[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`"),
        "{err}"
    );
    let ing = ingress("bad", Some("nginx")).replace("pathType: Prefix", "pathType: Regex");
    let err = sim.kubectl_stdin(&["apply", "-f", "-"], &ing).err();
    assert!(
        err.starts_with("The Ingress \"bad\" is invalid: spec.rules[0].http.paths[0].pathType: Unsupported value: \"Regex\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""),
        "{err}"
    );
}
