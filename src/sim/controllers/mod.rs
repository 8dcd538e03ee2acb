//! Controllers of the simulated cluster: pure reconcilers the runtime
//! (`sim::runtime`) drives, plus the namespace finalizer task.
pub mod clusterrole_aggregation;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod endpoints;
pub mod endpointslice;
pub mod endpointutil;
pub mod history;
pub mod job;
pub mod namespace;
pub mod podutil;
pub mod replicaset;
pub mod scheduler;
pub mod statefulset;
#[cfg(test)]
pub mod testutil;

use crate::sim::runtime::Controller;

/// Every controller the runtime runs, in a cluster seeded with `seed`.
pub fn all(seed: u64) -> Vec<Box<dyn Controller>> {
    vec![
        Box::new(deployment::DeploymentController),
        Box::new(replicaset::ReplicaSetController),
        Box::new(job::JobController),
        Box::new(cronjob::CronJobController),
        Box::new(statefulset::StatefulSetController),
        Box::new(daemonset::DaemonSetController),
        Box::new(scheduler::Scheduler { seed }),
        Box::new(endpoints::EndpointsController),
        Box::new(endpointslice::EndpointSliceController),
        Box::new(clusterrole_aggregation::ClusterRoleAggregationController),
    ]
}
