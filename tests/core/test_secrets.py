"""Credentials and secrets in the model: ``repr``/``str`` of the configuration hide them, dict use does
not change, and ``Secret(value=…)`` values live in the secret store, never in what the model writes."""

from __future__ import annotations

import copy
import json
import pickle
import pprint

import pytest

from dflow_lab import Secret, ShellOPTemplate, Step, Workflow, secret_store
from dflow_lab.config import config, s3_config

TOKEN = "argo-token-7d6c5b4a39281706"
ACCESS = "s3-access-3f2e1d0c"
SECRET_KEY = "s3-secret-b8a79685"
HEADER = "Bearer header-token-1a2b3c"


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(config, "token", TOKEN)
    monkeypatch.setitem(config, "http_headers", {"Authorization": HEADER})
    monkeypatch.setitem(s3_config, "access_key", ACCESS)
    monkeypatch.setitem(s3_config, "secret_key", SECRET_KEY)


def shown(obj: object) -> list[str]:
    return [repr(obj), str(obj), f"{obj}", pprint.pformat(obj), repr([obj]), repr({"c": obj})]


def test_repr_and_str_of_the_configuration_hide_credentials(credentials):
    for text in shown(config) + shown(s3_config) + shown(config.copy()) + shown(copy.deepcopy(s3_config)):
        for value in (TOKEN, ACCESS, SECRET_KEY, HEADER):
            assert value not in text
    assert "'token': '***'" in repr(config) and "'Authorization': '***'" in repr(config)
    assert "'access_key': '***'" in repr(s3_config) and "'secret_key': '***'" in repr(s3_config)
    assert "'bucket_name': " in repr(s3_config) and "'mode': " in repr(config)  # the rest is shown


def test_ipython_display_hides_credentials(credentials):
    pretty = pytest.importorskip("IPython.lib.pretty")
    assert TOKEN not in pretty.pretty(config) and SECRET_KEY not in pretty.pretty(s3_config)


def test_unset_credentials_show_as_they_are(monkeypatch):
    monkeypatch.setitem(config, "token", None)
    monkeypatch.setitem(s3_config, "access_key", "")
    assert "'token': None" in repr(config) and "'access_key': ''" in repr(s3_config)


def test_the_configuration_is_still_a_dict(credentials):
    assert isinstance(config, dict) and isinstance(s3_config, dict)
    assert config["token"] == TOKEN and config.get("token") == TOKEN and s3_config["secret_key"] == SECRET_KEY
    assert dict(config)["token"] == TOKEN and {**s3_config}["access_key"] == ACCESS
    assert json.loads(json.dumps(config))["token"] == TOKEN
    assert json.loads(json.dumps(s3_config))["secret_key"] == SECRET_KEY
    assert pickle.loads(pickle.dumps(s3_config))["secret_key"] == SECRET_KEY
    assert config.copy()["http_headers"] == {"Authorization": HEADER}
    assert copy.deepcopy(config) == config


def test_secret_values_live_in_the_store_not_in_what_the_model_writes():
    value = "store-secret-4c3b2a19"
    s = Secret(value=value, name="api", key="tok")
    assert secret_store.get("api", "tok") == value and s.value == value
    assert value not in repr(s) and not hasattr(Secret, "_values")
    t = ShellOPTemplate(name="use", image="alpine", script="true", envs={"TOKEN": s})
    wf = Workflow("store-secret")
    wf.add(Step("use", t))
    assert value not in wf.to_yaml() and value not in wf.to_graph_json()
    assert secret_store.referenced(wf.to_dict()) == {("api", "tok")}
    assert secret_store.export({("api", "tok"), ("absent", "x")}) == {"api": {"tok": value}}
    secret_store.forget("api")
    assert s.value is None


def test_a_secret_is_a_string():
    with pytest.raises(TypeError, match="secret 'num'"):
        Secret(value=123, name="num")  # type: ignore[arg-type]
