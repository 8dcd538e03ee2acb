//! Where the scheduler puts pods, through the real kubectl: replicas
//! spread over the workers, and a `DoNotSchedule` topology spread
//! constraint that counts the tainted control plane as a domain until
//! `nodeTaintsPolicy: Honor` leaves it out.

use super::harness::{Sim, rows};

fn web(spread: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {{app: web}}
{spread}      containers:
      - name: web
        image: nginx:1.27
"
    )
}

/// (node, status) of the web pods.
fn placement(sim: &Sim) -> Vec<(String, String)> {
    let out = sim
        .kubectl(&["get", "pods", "-l", "app=web", "-o", "wide", "--no-headers"])
        .ok();
    let mut v: Vec<(String, String)> = rows(&out)
        .into_iter()
        .map(|r| (r[6].clone(), r[2].clone()))
        .collect();
    v.sort();
    v
}

#[test]
fn replicas_spread_over_the_workers() {
    let sim = Sim::start_virtual();
    sim.kubectl(&[
        "create",
        "deployment",
        "api",
        "--image=nginx:1.27",
        "--replicas=4",
    ])
    .ok();
    sim.advance("30s");
    let out = sim
        .kubectl(&["get", "pods", "-l", "app=api", "-o", "wide", "--no-headers"])
        .ok();
    let on = |node: &str| rows(&out).iter().filter(|r| r[6] == node).count();
    assert_eq!((on("kdrill-worker"), on("kdrill-worker2")), (2, 2), "{out}");
}

#[test]
fn a_hostname_spread_constraint_counts_the_control_plane_as_a_domain() {
    let sim = Sim::start_virtual();
    let file = sim.file("web.yaml", &web(""));
    sim.kubectl(&["apply", "-f", &file]).ok();
    sim.advance("30s");
    // The control plane holds none and never will (its taint): one pod a
    // worker is the most within a skew of 1; the third waits.
    assert_eq!(
        placement(&sim),
        [
            ("<none>".to_string(), "Pending".to_string()),
            ("kdrill-worker".to_string(), "Running".to_string()),
            ("kdrill-worker2".to_string(), "Running".to_string()),
        ]
    );
    let out = sim
        .kubectl(&[
            "get",
            "events",
            "--field-selector",
            "reason=FailedScheduling",
            "-o",
            "jsonpath={.items[0].message}",
        ])
        .ok();
    assert_eq!(
        out,
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod topology spread constraints. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
    );
    // Leaving out the nodes whose taints the pods do not tolerate.
    let honor = "        nodeTaintsPolicy: Honor\n";
    let file = sim.file("web.yaml", &web(honor));
    sim.kubectl(&["apply", "-f", &file]).ok();
    sim.advance("60s");
    let running = placement(&sim)
        .into_iter()
        .filter(|(_, s)| s == "Running")
        .count();
    assert_eq!(running, 3, "{:?}", placement(&sim));
}
