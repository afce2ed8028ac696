"""nodeSelector on the local engine's one node (dflow_lab.local.scheduling): a pod asking for an os or
architecture this host is not stays Pending, unschedulable, until the run is ended; other labels are
ignored, so a workflow written for a cluster still runs."""

from __future__ import annotations

import platform

from dflow_lab.local.scheduling import HOST_LABELS, node_selector, unschedulable

from .local_helpers import manifest, nodes_by_display, sh, wait_for

OTHER_ARCH = "s390x" if HOST_LABELS["kubernetes.io/arch"] != "s390x" else "amd64"


def test_the_hosts_labels_are_gos_names_for_it():
    assert HOST_LABELS["kubernetes.io/os"] == HOST_LABELS["beta.kubernetes.io/os"] == "linux"
    arch = HOST_LABELS["kubernetes.io/arch"]
    assert arch == HOST_LABELS["beta.kubernetes.io/arch"]
    assert arch == {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), arch)


def test_which_selectors_this_host_matches():
    assert unschedulable({}) is None
    assert unschedulable({"kubernetes.io/os": "linux", "gpu": "true", "pool": "big"}) is None
    assert unschedulable(dict(HOST_LABELS)) is None
    why = unschedulable({"beta.kubernetes.io/arch": OTHER_ARCH})
    assert why is not None and why.startswith("Unschedulable: 0/1 nodes are available")
    assert f"beta.kubernetes.io/arch={OTHER_ARCH}" in why and f"kubernetes.io/arch={HOST_LABELS['kubernetes.io/arch']}" in why


def test_the_templates_selector_replaces_the_workflows():
    windows = {"nodeSelector": {"kubernetes.io/os": "windows"}}
    assert node_selector({}, windows) == {"kubernetes.io/os": "windows"}
    assert node_selector({"nodeSelector": {"kubernetes.io/os": "linux"}}, windows) == {"kubernetes.io/os": "linux"}
    assert node_selector({}, {}) == {}


def test_an_unschedulable_step_is_pending_until_the_run_is_ended(backend):
    """The selector's values are rendered (the arch comes from a parameter, as in Argo's node-selector.yaml)."""
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[
            {"name": "elsewhere", "template": "elsewhere",
             "arguments": {"parameters": [{"name": "arch", "value": OTHER_ARCH}]}},
            {"name": "here", "template": "here",
             "arguments": {"parameters": [{"name": "arch", "value": HOST_LABELS["kubernetes.io/arch"]}]}},
        ]]},
        {**sh("elsewhere", "echo ran > ran.txt"), "inputs": {"parameters": [{"name": "arch"}]},
         "nodeSelector": {"kubernetes.io/arch": "{{inputs.parameters.arch}}"}},
        {**sh("here", "echo here"), "inputs": {"parameters": [{"name": "arch"}]},
         "nodeSelector": {"kubernetes.io/arch": "{{inputs.parameters.arch}}", "cloud.example/pool": "gpu"}},
    ]), wait=False)
    name = wf["metadata"]["name"]

    def states() -> dict | None:
        nodes = nodes_by_display(backend.get(name))
        ok = nodes.get("elsewhere", {}).get("phase") == "Pending" and nodes.get("here", {}).get("phase") == "Succeeded"
        return nodes if ok else None

    nodes = wait_for(states, 60, "the unschedulable step Pending, its sibling done")
    assert nodes["elsewhere"]["message"].startswith("Unschedulable: ")
    assert backend.get(name)["status"]["phase"] == "Running"
    backend.terminate(name)
    done = backend.wait(name, timeout=120)
    assert done["status"]["phase"] == "Failed"
    elsewhere = nodes_by_display(done)["elsewhere"]
    assert elsewhere["phase"] == "Failed" and "exitCode" not in (elsewhere.get("outputs") or {})
    assert not any(p.name == "ran.txt" for p in backend.workdir.rglob("ran.txt"))


def test_a_selector_variable_that_does_not_resolve_fails_the_step(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "bad", "template": "bad"}]]},
        {**sh("bad", "echo never"), "nodeSelector": {"kubernetes.io/arch": "{{inputs.parameters.arch}}"}},
    ]), wait=True)
    assert wf["status"]["phase"] in ("Failed", "Error")
    bad = nodes_by_display(wf)["bad"]
    assert "nodeSelector" in bad["message"] and "inputs.parameters.arch" in bad["message"], bad["message"]
