"""The machine-wide configuration: where it is, what it sets, and that per-user settings
narrow it but never widen it."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.config import (
    ComputerSetup,
    ConfigError,
    config_path,
    load_config,
    read_config_file,
    save_computer,
)
from companion.machine_config import (
    apply_proxy,
    load_machine_config,
    machine_config_path,
    system_path,
)

MACHINE = """
environment = "staging"

[environments.staging]
oneroster_base = "https://roster.school.example"

[computer.staging]
school_id = "school-1"
class_ids = ["class-a", "class-b", "class-c"]

[report]
time_zone = "Europe/Paris"

[network]
proxy = "http://proxy.school.example:3128"
no_proxy = "localhost,127.0.0.1"
"""


@pytest.fixture
def machine_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "machine" / "config.toml"
    where.parent.mkdir()
    where.write_text(MACHINE, encoding="utf-8")
    monkeypatch.setenv("COMPANION_MACHINE_CONFIG", str(where))
    return where


def write_user(text: str) -> Path:
    where = config_path()
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(text, encoding="utf-8")
    return where


def test_the_system_places_for_the_file() -> None:
    assert system_path("linux") == Path("/etc/timeback-companion/config.toml")
    assert system_path("darwin") == Path(
        "/Library/Application Support/Timeback Companion/config.toml"
    )
    assert system_path("win32", {"ProgramData": r"D:\ProgramData"}) == (
        Path(r"D:\ProgramData") / "Timeback Companion" / "config.toml"
    )


def test_a_config_folder_override_reads_no_machine_file_unless_one_is_named() -> None:
    assert machine_config_path({}) == system_path()
    assert machine_config_path({"COMPANION_CONFIG_DIR": "/tmp/copy"}) is None
    assert machine_config_path(
        {"COMPANION_CONFIG_DIR": "/tmp/copy", "COMPANION_MACHINE_CONFIG": "/tmp/m.toml"}
    ) == Path("/tmp/m.toml")


def test_with_no_machine_file_the_user_file_alone_decides() -> None:
    write_user('environment = "production"\n[computer.production]\nschool_id = "s"\n')
    config = load_config()
    assert config.environment == "production"
    assert config.computer() == ComputerSetup("s", ())


def test_the_machine_file_sets_environment_urls_classes_and_time_zone(
    machine_file: Path,
) -> None:
    config = load_config()
    assert config.environment == "staging"
    assert config.computer() == ComputerSetup("school-1", ("class-a", "class-b", "class-c"))
    assert config.time_zone == "Europe/Paris"
    assert config.environment_for().oneroster_base == "https://roster.school.example"
    assert config.path == config_path()  # what the app records still goes to the user's file


def test_a_user_file_may_choose_a_subset_of_the_machines_classes(machine_file: Path) -> None:
    write_user('[computer.staging]\nschool_id = "school-1"\nclass_ids = ["class-b", "class-z"]\n')
    assert load_config().computer() == ComputerSetup("school-1", ("class-b",))


def test_a_user_file_never_widens(machine_file: Path) -> None:
    write_user(
        'environment = "production"\n'
        '[environments.staging]\ncaliper_base = "https://elsewhere.example"\n'
        '[computer.staging]\nschool_id = "school-1"\nclass_ids = ["class-z"]\n'
        '[report]\ntime_zone = "Asia/Tokyo"\n'
    )
    config = load_config()
    assert config.environment == "staging"
    assert config.url_overrides == {"staging": {"oneroster_base": "https://roster.school.example"}}
    # no allowed class left: the machine's classes, not "every class of the school"
    assert config.computer() == ComputerSetup("school-1", ("class-a", "class-b", "class-c"))
    assert config.time_zone == "Europe/Paris"


def test_a_user_file_cannot_choose_another_school(machine_file: Path) -> None:
    write_user('[computer.staging]\nschool_id = "school-2"\nclass_ids = ["class-a"]\n')
    assert load_config().computer() == ComputerSetup("school-1", ("class-a", "class-b", "class-c"))


def test_a_machine_serving_every_class_lets_the_user_pick_any_of_the_school(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = tmp_path / "m.toml"
    where.write_text('[computer.sandbox]\nschool_id = "demo-school-1"\n', encoding="utf-8")
    monkeypatch.setenv("COMPANION_MACHINE_CONFIG", str(where))
    write_user(
        'environment = "sandbox"\n[computer.sandbox]\nschool_id = "demo-school-1"\n'
        'class_ids = ["demo-class-1"]\n'
    )
    assert load_config().computer() == ComputerSetup("demo-school-1", ("demo-class-1",))


def test_settings_the_machine_leaves_unset_stay_the_users(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = tmp_path / "m.toml"
    where.write_text("[report]\nkeep_journals_days = 30\n", encoding="utf-8")
    monkeypatch.setenv("COMPANION_MACHINE_CONFIG", str(where))
    write_user('environment = "production"\n[report]\ntime_zone = "Asia/Tokyo"\n')
    config = load_config()
    assert (config.environment, config.time_zone, config.keep_journals_days) == (
        "production",
        "Asia/Tokyo",
        30,
    )


def test_recording_a_choice_writes_only_the_users_own_settings(machine_file: Path) -> None:
    save_computer("staging", "school-1", ["class-a"])
    written = read_config_file(config_path())
    assert written.environment == "sandbox"  # the machine's environment was not copied in
    assert written.url_overrides == {}
    assert written.computer("staging") == ComputerSetup("school-1", ("class-a",))
    assert load_config().computer() == ComputerSetup("school-1", ("class-a",))


def test_a_malformed_machine_file_names_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = tmp_path / "m.toml"
    monkeypatch.setenv("COMPANION_MACHINE_CONFIG", str(where))
    for text, problem in (
        ("environment = ", "not valid TOML"),
        ('environment = "moon"', "is not one of"),
        ('[network]\nproxy = "socks://x"', r"proxy must be an http\(s\) URL"),
        ("[network]\nport = 1", "unknown key"),
    ):
        where.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=problem) as caught:
            load_config()
        assert str(where) in str(caught.value)


def test_the_machines_proxy_goes_to_the_variables_the_clients_read(machine_file: Path) -> None:
    environ = {"HTTPS_PROXY": "http://students-own:8080"}
    assert apply_proxy(load_machine_config(machine_file), environ)
    assert environ["HTTPS_PROXY"] == environ["http_proxy"] == "http://proxy.school.example:3128"
    assert environ["NO_PROXY"] == "localhost,127.0.0.1"
    untouched = {"HTTPS_PROXY": "http://x:1"}
    assert not apply_proxy(None, untouched)
    assert untouched == {"HTTPS_PROXY": "http://x:1"}
