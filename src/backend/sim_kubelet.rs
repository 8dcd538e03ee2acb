//! The simulated kubelets behind the API server's `KubeletApi`: logs, exec
//! and memory use come from `sim::kubelets::Kubelets`.

use crate::api::image_behaviour::AppBehaviour;
use crate::server::kubelet_api::{
    ContainerUse, ExecCall, ExecFailure, ExecResult, KubeletApi, LogSnapshot,
};
use crate::sim::kubelet::view::{ExecError, ExecRequest};
use crate::sim::kubelets::Kubelets;

impl KubeletApi for Kubelets {
    fn refresh(&self, namespace: &str, pod: &str) {
        Kubelets::refresh(self, namespace, pod);
    }

    fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        previous: bool,
    ) -> Option<LogSnapshot> {
        Kubelets::logs(self, namespace, pod, container, previous).map(|l| LogSnapshot {
            lines: l.lines,
            container_id: l.container_id,
            running: l.running,
        })
    }

    fn exec(&self, call: &ExecCall<'_>) -> Result<ExecResult, ExecFailure> {
        let req = ExecRequest {
            container: call.container,
            argv: call.command,
            stdin: call.stdin,
            tty: call.tty,
        };
        Kubelets::exec(self, call.namespace, call.pod, &req)
            .map(|o| ExecResult {
                output: o.output,
                code: o.code,
            })
            .map_err(|e| match e {
                ExecError::NotRunning => ExecFailure::NotRunning,
                ExecError::Start(m) => ExecFailure::Start(m),
            })
    }

    fn usage(&self, namespace: &str, pod: &str) -> Vec<ContainerUse> {
        Kubelets::usage(self, namespace, pod)
            .into_iter()
            .map(|u| ContainerUse {
                name: u.name,
                cpu_millis: u.cpu_millis,
                memory: u.memory,
            })
            .collect()
    }

    fn declare_image(&self, repository: &str, behaviour: AppBehaviour) {
        Kubelets::declare_image(self, repository, behaviour);
    }

    fn declared_images(&self) -> Vec<(String, AppBehaviour)> {
        Kubelets::declared_images(self)
    }
}
