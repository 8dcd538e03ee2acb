//! Controllers of the simulated cluster: pure reconcilers the runtime
//! (`sim::runtime`) drives, plus the namespace finalizer task.
pub mod clusterrole_aggregation;
pub mod cronjob;
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod endpoints;
pub mod endpointslice;
pub mod endpointutil;
pub mod history;
pub mod hpa;
pub mod ingress_status;
pub mod job;
pub mod kubelet_eviction;
pub mod leader_election;
pub mod localpath;
pub mod namespace;
pub mod nodeheartbeat;
pub mod nodelifecycle;
pub mod persistentvolume;
pub mod podutil;
pub mod replicaset;
pub mod resourcequota;
pub mod scheduler;
pub mod statefulset;
pub mod tainteviction;
#[cfg(test)]
pub mod testutil;
pub mod volumeutil;

use crate::sim::runtime::Controller;

/// Every controller the runtime runs, in a cluster seeded with `seed`.
pub fn all(seed: u64) -> Vec<Box<dyn Controller>> {
    vec![
        Box::new(deployment::DeploymentController),
        Box::new(replicaset::ReplicaSetController),
        Box::new(job::JobController),
        Box::new(cronjob::CronJobController),
        Box::new(statefulset::StatefulSetController),
        Box::new(daemonset::DaemonSetController::default()),
        Box::new(scheduler::Scheduler::new(seed)),
        Box::new(disruption::DisruptionController),
        Box::new(nodeheartbeat::NodeHeartbeat),
        Box::new(leader_election::LeaderElection::new(seed)),
        Box::new(nodelifecycle::NodeLifecycleController),
        Box::new(tainteviction::TaintEvictionController),
        Box::new(endpoints::EndpointsController),
        Box::new(endpointslice::EndpointSliceController),
        Box::new(persistentvolume::PersistentVolumeController),
        Box::new(localpath::LocalPathProvisioner::new(seed)),
        Box::new(resourcequota::ResourceQuotaController),
        Box::new(ingress_status::IngressStatusController),
        Box::new(clusterrole_aggregation::ClusterRoleAggregationController),
    ]
}
