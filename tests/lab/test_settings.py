"""The server extension's settings in process: checks, write-only secrets, redaction, and the model
configuration following them (and coming back when they are cleared)."""

from __future__ import annotations

import json
import stat

import pytest

from dflow_lab.config import config, s3_config
from dflow_lab.jupyter.engines import apply_settings
from dflow_lab.jupyter.settings import ServerSettings, SettingsError


def test_update_is_checked_whole_before_anything_changes(tmp_path):
    s = ServerSettings(tmp_path / "secrets.json")
    with pytest.raises(SettingsError, match="argoHots"):
        s.update({"namespace": "x", "argoHots": "h"})
    with pytest.raises(SettingsError, match="artifactSecure"):
        s.update({"artifactSecure": "yes"})
    assert s.get("namespace") == "argo"  # nothing applied


def test_secrets_are_write_only_persisted_0600_and_redacted(tmp_path):
    path = tmp_path / "d" / "secrets.json"
    s = ServerSettings(path)
    s.update({"argoToken": "tok-123456", "argoHost": "https://h"})
    assert s.public()["secrets"] == {"argoToken": True, "artifactSecretKey": False}
    assert "tok-123456" not in json.dumps(s.public()) and "tok-123456" not in repr(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert s.redact("401 for token tok-123456") == "401 for token ***"
    again = ServerSettings(path)  # a restarted server keeps the secret
    assert again.secret("argoToken") == "tok-123456"
    again.update({"argoToken": ""})
    assert again.secret("argoToken") is None and json.loads(path.read_text()) == {}


def test_model_configuration_follows_and_comes_back():
    image, endpoint, secret = config["image"], s3_config["endpoint"], s3_config["secret_key"]
    s = ServerSettings()
    s.update({"defaultImage": "python:3.12-slim", "artifactEndpoint": "127.0.0.1:9999",
              "artifactBucket": "lab", "artifactSecretKey": "k-1"})
    try:
        apply_settings(s)
        assert config["image"] == "python:3.12-slim"
        assert (s3_config["endpoint"], s3_config["bucket_name"], s3_config["secret_key"]) == ("127.0.0.1:9999", "lab", "k-1")
    finally:
        s.update({"defaultImage": "", "artifactEndpoint": "", "artifactBucket": "", "artifactSecretKey": ""})
        apply_settings(s)
    assert (config["image"], s3_config["endpoint"], s3_config["secret_key"]) == (image, endpoint, secret)
