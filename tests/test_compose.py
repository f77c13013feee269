from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_localstack_is_pinned_to_the_last_image_without_an_auth_token():
    services = _compose()["services"]
    assert services["localstack"]["image"] == "localstack/localstack:4.14.0"
    assert "healthcheck" in services["localstack"]


def test_the_init_script_is_mounted_where_localstack_runs_it():
    volumes = _compose()["services"]["localstack"]["volumes"]
    mount = next(v for v in volumes if v.endswith("/etc/localstack/init/ready.d:ro"))
    source = mount.split(":")[0]
    assert (ROOT / source / "01-init-resources.sh").exists()


def test_web_and_worker_are_built_here_and_point_at_localstack():
    services = _compose()["services"]
    for name in ("web", "worker"):
        svc = services[name]
        assert svc["build"] == "."
        assert svc["environment"]["AWS_ENDPOINT_URL"] == "http://localstack:4566"
        assert svc["depends_on"]
    assert (ROOT / "Dockerfile").exists()


def test_the_makefile_procfile_and_readme_agree():
    procfile = (ROOT / "Procfile").read_text()
    for process in ("emulator:", "web:", "worker:"):
        assert process in procfile
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("make test") < 2000
