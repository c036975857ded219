"""Config files are read with bounds: aliases cannot blow up, errors name the file and line."""

import time

import pytest
from typer.testing import CliRunner

from funreason.cli import app
from funreason.configfile import load_config_file

BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["train: *i"]
)


def write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_config_loads_with_its_aliases(tmp_path):
    path = write(tmp_path, "base: &base {lr: 0.001, steps: 3}\ntrain: *base\nlist: [1, two, 3.5]\n")
    assert load_config_file(path) == {
        "base": {"lr": 0.001, "steps": 3},
        "train": {"lr": 0.001, "steps": 3},
        "list": [1, "two", 3.5],
    }
    assert load_config_file(write(tmp_path, "", "empty.yaml")) is None


def test_nested_aliases_are_refused_before_expansion(tmp_path):
    started = time.monotonic()
    with pytest.raises(ValueError, match="expands to more than"):
        load_config_file(write(tmp_path, BILLION_LAUGHS))
    assert time.monotonic() - started < 2


def test_recursive_alias_is_refused(tmp_path):
    with pytest.raises(ValueError, match="expands to more than"):
        load_config_file(write(tmp_path, "a: &a [1, *a]\n"))


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("train:\n  lr: 1\n  steps: [1, 2\n", 4, "expected ',' or ']'"),
        ("a: 1\nb: !!python/object/apply:os.system ['true']\n", 2, "python/object/apply"),
        ("a: 1\n\tb: 2\n", 2, "cannot start any token"),
    ],
)
def test_syntax_errors_and_python_tags_name_the_line(tmp_path, text, line, what):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=f"{path.name}:{line}: .*{what}"):
        load_config_file(path)


def test_deep_nesting_and_bad_utf8_are_one_line_errors(tmp_path):
    with pytest.raises(ValueError, match="nested too deeply"):
        load_config_file(write(tmp_path, "[" * 20_000 + "]" * 20_000))
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_config_file(path)


@pytest.mark.parametrize("command", [["run"], ["experiment"], ["train", "--config"]])
@pytest.mark.parametrize("text", [BILLION_LAUGHS, "a: !!python/name:os.system\n", "train: [1,\n"])
def test_cli_refuses_hostile_configs_in_one_line(tmp_path, command, text):
    path = write(tmp_path, text)
    result = CliRunner().invoke(app, [*command, str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path.name}:" in result.output or "expands to more than" in result.output


YAML_FLOODS = {
    "deep flow nesting": lambda n: "a: " + "[" * n,
    "a long mapping": lambda n: "".join(f"k{i}: v\n" for i in range(n // 8)),
    "escaped quotes": lambda n: 'a: "' + '\\"' * (n // 2) + '"\n',
    "many anchors and aliases": lambda n: "a: &x [1]\n" + "".join(f"b{i}: *x\n" for i in range(n // 9)),
}


@pytest.mark.parametrize("build", YAML_FLOODS.values(), ids=YAML_FLOODS.keys())
def test_configs_are_read_in_time_linear_in_their_size(tmp_path, time_per_kb, build):
    path = tmp_path / "c.yaml"

    def load(text: str) -> None:
        path.write_text(text)
        load_config_file(path)

    time_per_kb(load, build, (ValueError,), large=16 * 1024)  # PyYAML is slow: deep nesting reads at ~5 KB/s
