"""[courses.<env>] in config.toml: read, written by content push, other settings kept."""

from __future__ import annotations

import pytest

from companion.config import ConfigError, config_path, load_config, save_course_ids


def test_course_ids_are_merged_and_the_rest_of_the_file_kept() -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text(
        'environment = "staging"\n[environments.staging]\n'
        'caliper_base = "https://caliper.moved.test"\n'
        '[courses.staging]\n"math g3" = "tb-math-3"\n',
        encoding="utf-8",
    )
    save_course_ids("staging", {"demo-course-1": "tb-demo"})
    save_course_ids("production", {"demo-course-1": "tb-demo-prod"})
    config = load_config()
    assert config.environment == "staging"
    assert config.environment_for().caliper_base == "https://caliper.moved.test"
    assert config.course_ids() == {"math g3": "tb-math-3", "demo-course-1": "tb-demo"}
    assert config.course_ids("production") == {"demo-course-1": "tb-demo-prod"}
    assert config.course_ids("sandbox") == {}


@pytest.mark.parametrize("text", ['[courses.moon]\na = "b"\n', '[courses.staging]\na = 3\n',
                                  'courses = "x"\n'])
def test_malformed_course_tables_are_refused(text: str) -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="courses"):
        load_config()
