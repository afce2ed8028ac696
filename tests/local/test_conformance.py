"""Conformance: Argo's own example workflows (../shared/argo/examples) run on the local engine.

Every example is listed exactly once: in ``SUPPORTED`` with the outcome Argo documents for it (the
workflow phase, plus the step results the example exists to show), or in ``UNSUPPORTED`` with the
reason it cannot run on a host without Kubernetes.  Examples that take long by design (sleeps of 10 s
and more) are marked ``slow`` and run when ``DFLOW_LAB_SLOW_EXAMPLES=1``.  The fast ones run concurrently in one engine, as a user's notebook would.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import fcntl
import os
import tempfile
from pathlib import Path

import pytest
import yaml

from dflow_lab.local.backend import LocalBackend
from dflow_lab.local.objects import ObjectStore

from ..conftest import EXAMPLES_DIR
from .local_helpers import wait_for


def _pods(wf: dict) -> dict[str, dict]:
    """Nodes by display name; the root node (the workflow's name) also as ``root``."""
    nodes = {n["displayName"]: n for n in wf["status"]["nodes"].values()}
    nodes["root"] = wf["status"]["nodes"][wf["metadata"]["name"]]
    return nodes


def results(**expected):
    """Check that the named steps printed these results (a value, or a set of allowed values)."""

    def check(wf: dict) -> None:
        nodes = _pods(wf)
        for display, want in expected.items():
            display = display.replace("__", "-")
            got = (nodes[display].get("outputs") or {}).get("result")
            if isinstance(want, set):
                assert got in want, (display, got)
            else:
                assert got == want, (display, got)

    return check


def phases(**expected):
    """Check the phases of the named steps."""

    def check(wf: dict) -> None:
        nodes = _pods(wf)
        for display, want in expected.items():
            display = display.replace("__", "-")
            assert nodes[display]["phase"] == want, (display, nodes[display]["phase"], nodes[display].get("message"))

    return check


def all_of(*checks):
    def check(wf: dict) -> None:
        for c in checks:
            c(wf)

    return check


def coin(flip: str, when_heads: str, when_tails: str):
    """Exactly the branch matching the coin ran."""

    def check(wf: dict) -> None:
        nodes = _pods(wf)
        side = nodes[flip]["outputs"]["result"]
        assert side in ("heads", "tails")
        ran, skipped = (when_heads, when_tails) if side == "heads" else (when_tails, when_heads)
        assert nodes[ran]["phase"] == "Succeeded"
        assert nodes[skipped]["phase"] in ("Skipped", "Omitted")

    return check


def global_outputs(wf: dict) -> None:
    outputs = wf["status"]["outputs"]
    assert {"name": "my-global-param", "value": "hello world"} in outputs["parameters"]
    assert [a["name"] for a in outputs["artifacts"]] == ["my-global-art"]
    assert _pods(wf)["consume-globals"]["phase"] == "Succeeded"


def resume_suspended(backend: LocalBackend, name: str) -> None:
    wait_for(lambda: any(n["type"] == "Suspend" and n["phase"] == "Running"
                         for n in backend.get(name)["status"]["nodes"].values()), what="suspend node")
    backend.resume(name)


def supply_and_resume(backend: LocalBackend, name: str) -> None:
    resume_suspended_with(backend, name, {"message": "approved by test"})


def resume_suspended_with(backend: LocalBackend, name: str, outputs: dict, step: str = "approve") -> None:
    wait_for(lambda: any(n["type"] == "Suspend" and n["phase"] == "Running"
                         for n in backend.get(name)["status"]["nodes"].values()), what="suspend node")
    backend.set_outputs(name, step, outputs)
    backend.resume(name)


def _unschedulable_pods(wf: dict) -> list[dict]:
    return [n for n in wf["status"]["nodes"].values()
            if n["type"] == "Pod" and n["displayName"].startswith("unschedulable")]


def pending_while_unschedulable(backend: LocalBackend, name: str) -> None:
    """timeouts-workflow.yaml: until the workflow's deadline, the pods whose nodeSelector asks for an
    architecture no node has are Pending with Kubernetes' reason, beside the running sleeps."""
    def pending() -> bool:
        pods = _unschedulable_pods(backend.get(name))
        return len(pods) == 3 and all(p["phase"] == "Pending" and p["message"].startswith("Unschedulable: ")
                                      for p in pods)

    wait_for(pending, 25, what="the three unschedulable pods to be Pending")


def never_scheduled(wf: dict) -> None:
    """The deadline ended the run; the unschedulable pods never ran (no exit code), the sleeps were ended."""
    assert wf["status"]["message"] == "Max duration limit exceeded", wf["status"]["message"]
    pods = _unschedulable_pods(wf)
    assert len(pods) == 3 and all(p["phase"] == "Failed" and "exitCode" not in (p.get("outputs") or {})
                                  for p in pods), pods
    sleeps = [n for n in wf["status"]["nodes"].values() if n["displayName"].startswith("sleep-one-day")]
    assert len(sleeps) == 3 and all(n["phase"] == "Failed" for n in sleeps)


def _assert(ok: bool) -> None:
    assert ok


S, F = "Succeeded", "Failed"
HW = "hello world"

#: example -> (expected workflow phase, check of the documented result or None, action while running)
SUPPORTED: dict[str, tuple] = {
    "archive-location.yaml": (S, results(root=HW)),
    "arguments-parameters.yaml": (S, results(root=HW)),
    "artifact-gc-workflow.yaml": (S, None),
    "artifact-passing-explicit-plugin.yaml": (S, results(consume__artifact=HW)),
    "artifact-passing-subpath.yaml": (S, all_of(results(consume__artifact=HW, list__artifact="hello_world.txt"))),
    "artifact-passing.yaml": (S, results(consume__artifact=HW)),
    "arguments-parameters-from-configmap.yaml": (S, results(root=HW)),  # the config map's msg
    "artifact-path-placeholders.yaml": (S, None),
    "artifact-repository-ref.yaml": (S, None),
    "artifactory-artifact.yaml": (S, None),
    "coinflip-recursive.yaml": (S, None),
    # argosay:v1 runs `cowsay hello` (Debian's cowsay stands in for the image's); all three `when` forms are true
    "conditionals.yaml": (S, all_of(phases(print__hello__govaluate=S, print__hello__expr=S, print__hello__expr__json=S),
                                    lambda wf: _assert("< hello >" in _pods(wf)["print-hello-expr"]["outputs"]["result"]))),
    "coinflip.yaml": (S, coin("flip-coin", "heads", "tails")),
    "conditional-artifacts.yaml": (S, coin("flip-coin", "heads", "tails")),
    "conditional-parameters.yaml": (S, coin("flip-coin", "heads", "tails")),
    "conditionals-complex.yaml": (S, None),
    "continue-on-fail.yaml": (S, phases(C=F, D=S)),
    "custom-metrics.yaml": ({S, F}, None),  # "flaky": a random step
    "dag-coinflip.yaml": (S, None),
    "dag-conditional-artifacts.yaml": (S, None),
    "dag-conditional-parameters.yaml": (S, None),
    "dag-continue-on-fail.yaml": (F, phases(A=S, B=F, C=S, E=F)),  # "expected-failure"
    "dag-custom-metrics.yaml": (S, None),
    "dag-diamond-steps.yaml": (S, None),
    "dag-diamond.yaml": (S, results(A="A", B="B", C="C", D="D")),
    "dag-enhanced-depends.yaml": (S, None),
    "dag-inline-workflow.yaml": (S, results(a="hello argo")),  # argosay:v2's entrypoint without arguments
    "dag-multiroot.yaml": (S, results(A="A", B="B", C="C", D="D")),
    "dag-nested.yaml": (S, None),
    "dag-targets.yaml": (S, None),
    "default-pdb-support.yaml": (S, None),
    "dns-config.yaml": (S, None),
    "exit-code-output-variable.yaml": (S, None),
    "exit-handler-dag-level.yaml": ({S, F}, None),  # "flaky"
    "exit-handler-step-level.yaml": (S, phases(**{"hello1.onExit": S, "hello2a.onExit": S, "hello2b.onExit": S})),
    "exit-handler-with-artifacts.yaml": (S, None),
    "exit-handler-with-param.yaml": (S, None),
    "exit-handlers.yaml": (F, phases(cry=S, celebrate="Skipped")),  # "expected-failure"
    "expression-destructure-json-complex.yaml": (S, None),
    "expression-destructure-json.yaml": (S, None),
    "expression-reusing-verbose-snippets.yaml": (S, None),
    # one item (3 > 1): "hello 30 @ <year of creation>" and the block's newline written to /output (Argo trims
    # one newline of a parameter file: the echoed one)
    "expression-tag-template-workflow.yaml": (S, lambda wf: _assert(
        _pods(wf)["task-0(0:3)"]["outputs"]["parameters"][0]["value"]
        == f"hello 30 @ {wf['metadata']['creationTimestamp'][:4]}\n")),
    "fibonacci-seq-conditional-param.yaml": (S, None),
    "gc-ttl.yaml": (S, None),
    "global-outputs.yaml": (S, global_outputs),
    "global-parameters-from-configmap-referenced-as-local-variable.yaml": (S, results(root=HW)),
    "global-parameters-from-configmap.yaml": (S, results(root=HW)),
    "global-parameters.yaml": (S, None),
    "handle-large-output-results.yaml": (S, None),
    "hdfs-artifact.yaml": (S, None),
    "hello-world.yaml": (S, None),
    "image-pull-secrets.yaml": (S, None),
    "init-container.yaml": (S, None),
    "input-artifact-raw.yaml": (S, None),
    # approve=YES supplied to the suspended approval step: deploy-prod runs
    "intermediate-parameters.yaml": (S, all_of(phases(deploy__prod=S), results(deploy__prod="deploying")),
                                     lambda b, n: resume_suspended_with(b, n, {"approve": "YES"}, step="approval")),
    "key-only-artifact.yaml": (S, results(consume="hello")),  # an artifact by key alone, in the default repository
    "label-value-from-workflow.yaml": (S, lambda wf: _assert(wf["metadata"]["labels"]["foo"] == "bar")),
    # parallelism 1 and failFast: items 0-2 succeed, item 3 fails, items 4-5 never start ("expected-failure")
    "loops-arbitrary-sequential-steps.yaml": (F, lambda wf: _assert(sorted(
        (n["displayName"].split(":")[0], n["phase"]) for n in wf["status"]["nodes"].values()
        if n["displayName"].startswith("unit-step(")) == [("unit-step(0", S), ("unit-step(1", S), ("unit-step(2", S),
                                                          ("unit-step(3", F), ("unit-step(4", "Omitted"),
                                                          ("unit-step(5", "Omitted")])),
    "loops-dag.yaml": (S, None),
    "loops-maps.yaml": (S, None),
    "loops-param-argument.yaml": (S, None),
    "loops-sequence.yaml": (S, None),
    "loops.yaml": (S, None),
    "map-reduce.yaml": (S, None),
    "memoize-simple.yaml": (S, None),
    "nested-workflow.yaml": (S, None),
    "node-selector.yaml": (S, None),
    "output-artifact-s3.yaml": (S, None),
    "output-parameter.yaml": (S, None),
    "parameter-aggregation-dag.yaml": (S, None),
    "parameter-aggregation-script.yaml": (S, None),
    "parameter-aggregation.yaml": (S, None),
    "pod-metadata-wf-field.yaml": (S, None),
    "pod-metadata.yaml": (S, None),
    "pod-resources.yaml": (S, None),
    "pod-spec-from-previous-step.yaml": (S, None),
    "pod-spec-patch-wf-tmpl.yaml": (S, None),  # the patch (resources) has no meaning on the host
    "pod-spec-patch.yaml": (S, None),
    "pod-spec-yaml-patch.yaml": (S, None),
    "recursive-for-loop.yaml": (S, None),
    "resource-claims-template-override.yaml": (S, None),
    "resource-claims.yaml": (S, None),
    "resubmit.yaml": ({S, F}, None),  # random failures by design
    # one exit in three is 0, 11 attempts: Failed in about 1 run in 90 by design; a Failed run used every attempt
    "retry-container.yaml": ({S, F}, lambda wf: _assert(wf["status"]["phase"] == "Succeeded" or sum(
        n["type"] == "Pod" for n in wf["status"]["nodes"].values()) == 11)),
    "retry-conditional.yaml": ({S, F}, None),  # random exit codes by design
    "retry-on-error.yaml": ({S, F}, None),  # random exit codes by design
    "retry-script.yaml": ({S, F}, None),  # random exit codes by design
    "retry-with-steps.yaml": ({S, F}, None),  # random exit codes by design
    "scripts-bash.yaml": (S, None),
    "scripts-javascript.yaml": (S, None),
    "scripts-python.yaml": (S, None),
    "status-reference.yaml": (S, None),
    "steps-inline-workflow.yaml": (S, results(a="hello argo")),
    "steps.yaml": (S, results(hello1="hello1", hello2a="hello2a", hello2b="hello2b")),
    "suspend-template-outputs.yaml": (S, results(release="approved by test"), supply_and_resume),
    "synchronization-db-mutex-wf-level.yaml": (S, None),
    "synchronization-db-wf-level.yaml": (S, None),
    "synchronization-mutex-wf-level.yaml": (S, None),
    "synchronization-wf-level.yaml": (S, None),
    # random exit codes by design (1 in 3 succeeds, 3 attempts); the defaults' retryStrategy makes Retry nodes
    "template-defaults.yaml": ({S, F}, lambda wf: _assert(any(n["type"] == "Retry" for n in wf["status"]["nodes"].values()))),
    "template-on-exit.yaml": (S, None),
    "title-and-description-with-markdown.yaml": (S, None),
    "volumes-existing.yaml": (S, None),
    "volumes-pvc.yaml": (S, lambda wf: _assert(_pods(wf)["print"]["outputs"]["result"].endswith("\nhello world"))),
    "withsequence-nested-result.yaml": (S, None),
}

#: examples that take long by design; run with DFLOW_LAB_SLOW_EXAMPLES=1
SLOW: dict[str, tuple] = {
    "dag-disable-failFast.yaml": (F, None),  # a 30 s sleep; "expected-failure"
    "dag-task-level-timeout.yaml": (F, phases(A=S)),  # B times out after 10 s; "expected-failure"
    "loops-param-result.yaml": (S, None),  # sleeps of 20-30 s
    "parallelism-limit.yaml": (S, None),
    "parallelism-nested-dag.yaml": (S, None),
    "parallelism-nested-workflow.yaml": (S, None),
    "parallelism-nested.yaml": (S, None),
    "parallelism-template-limit.yaml": (S, None),
    "pod-resources-template-override.yaml": (S, None),
    "retry-backoff.yaml": ({S, F}, None),
    "retry-container-to-completion.yaml": (S, None),
    "step-level-timeout.yaml": (F, None),
    "suspend-template.yaml": (S, None, resume_suspended),
    # 5 + 5 items of 20 s and 50 s, each lane holding its template's mutex: serialised within a lane
    "synchronization-db-mutex-tmpl-level.yaml": (S, results(**{"synchronization-acquire-lock(0:1)": "acquired lock"})),
    "synchronization-db-tmpl-level.yaml": (S, None),
    "synchronization-mutex-tmpl-level.yaml": (S, results(**{"synchronization-acquire-lock(0:1)": "acquired lock"})),
    "synchronization-tmpl-level.yaml": (S, None),
    "timeouts-step.yaml": (F, None),
    # a 30 s workflow deadline; its unschedulable pods stay Pending (dflow_lab.local.scheduling)
    "timeouts-workflow.yaml": (F, never_scheduled, pending_while_unschedulable),
    "colored-logs.yaml": (S, None),
}

NGINX_PAGE = "<title>Welcome to nginx!</title>"
INFLUX_ROWS = ('"server01"', '"server02"', '"server03"')

#: examples with daemons or sidecars: host services on fixed ports (nginx on 80, influxd on 8086), so they run
#: one at a time (dflow_lab.local.services; the images' host stand-ins: dflow_lab.local.images)
SERVICES: dict[str, tuple] = {
    "daemon-nginx.yaml": (S, lambda wf: _assert(NGINX_PAGE in _pods(wf)["nginx-client"]["outputs"]["result"])),
    "daemon-step.yaml": (S, lambda wf: _assert(all(h in _pods(wf)["consumer"]["outputs"]["result"]
                                                   for h in INFLUX_ROWS))),
    "steps-daemon-retry-strategy.yaml": (S, lambda wf: _assert(all(
        NGINX_PAGE in n["outputs"]["result"] for n in wf["status"]["nodes"].values()
        if n["displayName"].startswith("client(")) and _pods(wf)["server"]["phase"] == S)),
    "dag-daemon-retry-strategy.yaml": (S, lambda wf: _assert(sum(
        NGINX_PAGE in n["outputs"]["result"] for n in wf["status"]["nodes"].values()
        if n["displayName"].startswith("client(")) == 6)),
    "sidecar-nginx.yaml": (S, lambda wf: _assert(NGINX_PAGE in _pods(wf)["root"]["outputs"]["result"])),
}
SLOW_SERVICES: dict[str, tuple] = {
    # 20 writes half a second apart from each of two producers
    "dag-daemon-task.yaml": (S, lambda wf: _assert(all(h in _pods(wf)["consumer"]["outputs"]["result"]
                                                       for h in INFLUX_ROWS))),
}

#: CronWorkflow examples: kept (as `dflow-lab cron create FILE`), then the scheduler (dflow_lab.local.cron) runs
#: with an injected clock: one tick, the clock moved to the next schedule time, a second tick starts the run(s)
CRONS: dict[str, tuple] = {
    "cron-workflow.yaml": (S, lambda wf: _assert(_pods(wf)["root"]["outputs"]["result"] == (
        "🕓 hello world. Scheduled on: " + wf["metadata"]["annotations"]["workflows.argoproj.io/scheduled-time"]))),
    # Debian's cowsay stands in for docker/whalesay's: the message in a bubble (wrapped at 40 columns)
    "cron-workflow-multiple-schedules.yaml": (S, lambda wf: _assert(all(
        part in _pods(wf)["root"]["outputs"]["result"] for part in (
            "hello world. Scheduled on:", wf["metadata"]["annotations"]["workflows.argoproj.io/scheduled-time"])))),
    # runs the dag-inline WorkflowTemplate (dag-inline-workflowtemplate.yaml, kept first)
    "dag-inline-cronworkflow.yaml": (S, results(a="hello argo")),
}

#: (Cluster)WorkflowTemplate examples: kept with ObjectStore (as `dflow-lab template create FILE`), then run by a
#: Workflow whose spec is just a workflowTemplateRef to them
TEMPLATES: dict[str, tuple] = {
    "dag-inline-workflowtemplate.yaml": (S, results(a="hello argo")),
    "dag-inline-clusterworkflowtemplate.yaml": (S, results(a="hello argo")),
}

K8S = "a Kubernetes `resource` template (kubectl against a cluster)"

UNSUPPORTED: dict[str, str] = {
    "artifact-disable-archive.yaml": "archives the image's own /etc directory",
    "arguments-artifacts.yaml": "downloads kubectl over the internet (http artifact)",
    "artifacts-workflowtemplate.yaml": "a WorkflowTemplate (`dflow-lab template create` keeps it) whose containerSet needs the argosay and gnuplot images and an http artifact from the internet",
    "buildkit-template.yaml": "a WorkflowTemplate (`dflow-lab template create` keeps it) that clones from GitHub and builds images with BuildKit",
    "ci-output-artifact.yaml": "git checkout and a Go toolchain image",
    "ci-workflowtemplate.yaml": "a WorkflowTemplate (`dflow-lab template create` keeps it) that clones from GitHub and needs a Go toolchain image",
    "ci.yaml": "git checkout and a Go toolchain image",
    "cron-backfill.yaml": "its backfill Workflow creates Workflows with `resource` templates (kubectl against a cluster)",
    "cron-when.yaml": "its `when` does time arithmetic (`now() - cronworkflow.lastScheduledTime`), which the local "
                      "scheduler's expressions do not have",
    "daemoned-stateful-set-with-service.yaml": K8S,
    "data-transformations.yaml": "a `data` template over an S3 bucket of the cluster",
    "exit-handler-slack.yaml": "posts to a Slack webhook (network, a placeholder URL)",
    "forever.yaml": "runs forever by design",
    "fun-with-gifs.yaml": "ImageMagick/gifsicle images and a volume claim of a cluster",
    "hello-hybrid.yaml": "a Windows node (its pod stays Pending, unschedulable here, and nothing ends the run)",
    "hello-windows.yaml": "a Windows node (its pod stays Pending, unschedulable here, and nothing ends the run)",
    "http-hello-world.yaml": "an `http` template calling a server on the internet (the local engine calls loopback servers only)",
    "http-success-condition.yaml": "an `http` template calling a server on the internet (the local engine calls loopback servers only)",
    "influxdb-ci.yaml": "a git artifact from GitHub and a Go toolchain image building InfluxDB",
    "input-artifact-azure.yaml": "an Azure blob store",
    "input-artifact-gcs.yaml": "a Google Cloud Storage bucket",
    "input-artifact-git.yaml": "a git artifact (network)",
    "input-artifact-http.yaml": "downloads kubectl over the internet (http artifact)",
    "input-artifact-oss.yaml": "an Alibaba OSS bucket",
    "input-artifact-s3.yaml": "a pre-existing object in the cluster's S3 bucket",
    "k8s-jobs.yaml": K8S,
    "k8s-orchestration.yaml": K8S,
    "k8s-owner-reference.yaml": K8S,
    "k8s-patch-json-pod.yaml": K8S,
    "k8s-patch-json-workflow.yaml": K8S,
    "k8s-patch-merge-pod.yaml": K8S,
    "k8s-patch-pod.yaml": K8S,
    "k8s-resource-log-selector.yaml": K8S,
    "k8s-set-owner-reference.yaml": K8S,
    "k8s-wait-wf.yaml": K8S,
    "life-cycle-hooks-tmpl-level.yaml": "its lifecycle hooks' `http` template calls a server on the internet (the local "
                                        "engine calls loopback servers only; tests/local/test_hooks.py runs the same "
                                        "hooks against one)",
    "life-cycle-hooks-wf-level.yaml": "its lifecycle hooks' `http` template calls a server on the internet (the local "
                                      "engine calls loopback servers only; tests/local/test_hooks.py runs the same "
                                      "hooks against one)",
    "output-artifact-azure.yaml": "an Azure blob store",
    "output-artifact-gcs.yaml": "a Google Cloud Storage bucket",
    "pod-gc-strategy-with-label-selector.yaml": "pod garbage collection is a cluster feature (the run fails by design)",
    "pod-gc-strategy.yaml": "pod garbage collection is a cluster feature (the run fails by design)",
    "resource-delete-with-flags.yaml": K8S,
    "resource-flags.yaml": K8S,
    "secrets.yaml": "a Kubernetes secret",
    "sidecar-dind.yaml": "a Docker-in-Docker sidecar (the docker:dind image, privileged)",
    "sidecar.yaml": "installs curl with Alpine's `apk` inside the container",
    "testvolume.yaml": "a PersistentVolumeClaim, not a Workflow",
    "variables-showcase.yaml": "variables the local engine does not provide (`workflow.creationTimestamp.RFC3339`, "
                                "…) and a daemon from an image without a host stand-in",
    "volumes-emptydir.yaml": "checks /proc/mounts for a kubelet mount",
    "webhdfs-input-output-artifacts.yaml": "a WebHDFS server",
    "work-avoidance.yaml": "an S3 server at minio:9000 with cluster credentials",
    "workflow-count-resourcequota.yaml": "a ResourceQuota, not a Workflow",
    "workflow-level-executor-plugin.yaml": "an executor plugin",
    "workflow-of-workflows.yaml": "`resource` templates that create Workflows in a cluster",
}


def _load(example: str) -> dict:
    manifest = yaml.safe_load((EXAMPLES_DIR / example).read_text())
    manifest = copy.deepcopy(manifest)
    meta = manifest["metadata"]
    if "name" in meta:  # fixed names would collide between runs: make them generated
        meta["generateName"] = meta.pop("name") + "-"
    return manifest


def _template_workflow(backend: LocalBackend, example: str) -> dict:
    """Keep the example's (Cluster)WorkflowTemplate and return a Workflow that runs it by reference."""
    template = yaml.safe_load((EXAMPLES_DIR / example).read_text())
    ObjectStore(backend.workdir).create(template)
    ref = {"name": template["metadata"]["name"]}
    if template["kind"] == "ClusterWorkflowTemplate":
        ref["clusterScope"] = True
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"generateName": template["metadata"]["name"] + "-"}, "spec": {"workflowTemplateRef": ref}}


def _run(backend: LocalBackend, example: str, action=None) -> dict:
    if example in TEMPLATES:
        return backend.submit(_template_workflow(backend, example), wait=True)
    if action is None:
        return backend.submit(_load(example), wait=True)
    wf = backend.submit(_load(example), wait=False)
    action(backend, wf["metadata"]["name"])
    return backend.wait(wf["metadata"]["name"], timeout=120)


def _semaphore_config_maps(backend: LocalBackend) -> None:
    """The limits the synchronization examples' semaphores read (Argo's synchronization docs: one workflow,
    two template instances at a time); database semaphores read theirs from ``database-semaphores``."""
    limits = {"workflow": "1", "template": "2"}
    for name in ("my-config", "database-semaphores"):
        ObjectStore(backend.workdir).create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
                                             "data": limits})


@pytest.fixture(scope="module")
def fast_runs(tmp_path_factory) -> dict[str, dict]:
    """All fast supported examples, run concurrently in this process's engine."""
    backend = LocalBackend(tmp_path_factory.mktemp("conformance") / "ws")
    # the config map the *-from-configmap examples read (Argo's examples/configmaps/simple-parameters-configmap.yaml)
    ObjectStore(backend.workdir).create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "simple-parameters"},
                                         "data": {"msg": "hello world"}})
    _semaphore_config_maps(backend)
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        futures = {ex: pool.submit(_run, backend, ex, (spec + (None,))[2])
                   for ex, spec in {**SUPPORTED, **TEMPLATES}.items()}
        return {ex: f.result() for ex, f in futures.items()}


def test_every_example_is_classified():
    on_disk = {p.name for p in Path(EXAMPLES_DIR).glob("*.yaml")}
    listed = [*SUPPORTED, *TEMPLATES, *CRONS, *SERVICES, *SLOW_SERVICES, *SLOW, *UNSUPPORTED]
    assert len(listed) == len(set(listed)), "an example is listed twice"
    assert on_disk == set(listed), (sorted(on_disk - set(listed)), sorted(set(listed) - on_disk))


def _check(wf: dict, spec: tuple) -> None:
    phase, check = spec[0], spec[1]
    allowed = phase if isinstance(phase, set) else {phase}
    assert wf["status"]["phase"] in allowed, (wf["status"]["phase"], wf["status"].get("message"))
    if check is not None and wf["status"]["phase"] == (phase if isinstance(phase, str) else wf["status"]["phase"]):
        check(wf)


@pytest.mark.parametrize("example", sorted(SUPPORTED))
def test_example(example, fast_runs):
    _check(fast_runs[example], SUPPORTED[example])


@pytest.mark.parametrize("example", sorted(TEMPLATES))
def test_template_example(example, fast_runs):
    _check(fast_runs[example], TEMPLATES[example])


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("DFLOW_LAB_SLOW_EXAMPLES"),
                    reason="examples that sleep by design: set DFLOW_LAB_SLOW_EXAMPLES=1")
@pytest.mark.parametrize("example", sorted(SLOW))
def test_slow_example(example, tmp_path):
    spec = SLOW[example]
    backend = LocalBackend(tmp_path / "ws")
    _semaphore_config_maps(backend)
    wf = _run(backend, example, (spec + (None,))[2])
    _check(wf, spec)


def _needs_services(example: str) -> None:
    import shutil

    from dflow_lab.local.images import stand_in

    text = (EXAMPLES_DIR / example).read_text()
    for image, program in (("nginx", "nginx"), ("influxdb", "influxd"), ("curlimages/curl", "busybox")):
        if f"image: {image}" in text and stand_in(f"{image}:1.2" if image == "influxdb" else image) is None:
            pytest.skip(f"{program} is not installed: scripts/install.sh --dev installs the image stand-ins")
    assert shutil.which("curl"), "curl is needed by the examples' clients"


@contextlib.contextmanager
def _host_ports(timeout: float = 600.0):
    """Hold the host-wide lock of the fixed service ports (80, 8086), so that two test runs on one machine
    take turns; bounded wait."""
    with open(Path(tempfile.gettempdir()) / "dflow-lab-conformance-services.lock", "a") as lock:
        wait_for(lambda: _try_lock(lock), timeout=timeout, what="the conformance services' port lock")
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _try_lock(lock) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


@pytest.mark.parametrize("example", sorted(SERVICES))
def test_service_example(example, tmp_path):
    _needs_services(example)
    with _host_ports():
        _check(_run(LocalBackend(tmp_path / "ws"), example), SERVICES[example])


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("DFLOW_LAB_SLOW_EXAMPLES"),
                    reason="examples that sleep by design: set DFLOW_LAB_SLOW_EXAMPLES=1")
@pytest.mark.parametrize("example", sorted(SLOW_SERVICES))
def test_slow_service_example(example, tmp_path):
    _needs_services(example)
    with _host_ports():
        _check(_run(LocalBackend(tmp_path / "ws"), example), SLOW_SERVICES[example])


@pytest.mark.parametrize("example", sorted(CRONS))
def test_cron_example(example, tmp_path):
    from dflow_lab.local.cron import CRON_LABEL, CronSchedule, CronScheduler, check_cron_workflow

    backend = LocalBackend(tmp_path / "ws")
    store = ObjectStore(backend.workdir)
    store.create(yaml.safe_load((EXAMPLES_DIR / "dag-inline-workflowtemplate.yaml").read_text()))
    cron = check_cron_workflow(yaml.safe_load((EXAMPLES_DIR / example).read_text()))
    store.create(cron)
    now = [1767225600.0]  # 2026-01-01T00:00:00Z, a Thursday
    scheduler = CronScheduler(backend.workdir, clock=lambda: now[0], backend=backend)
    assert scheduler.tick() == []
    spec = cron["spec"]
    now[0] = min(CronSchedule(s, spec.get("timezone")).next(now[0]) for s in spec["schedules"])
    started = scheduler.tick()
    assert started, scheduler.events
    for name in started:
        wf = backend.wait(name, timeout=120)
        assert wf["metadata"]["labels"][CRON_LABEL] == cron["metadata"]["name"]
        _check(wf, CRONS[example])

