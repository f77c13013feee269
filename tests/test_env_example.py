"""`.env.example` keeps step with the settings: every variable the settings read is there (set, or commented
with its default), and it names none that nothing reads."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READERS = {"env_bool", "env_int", "env_url", "env_str", "env_float", "env_list", "env_choice"}


def settings_read() -> set[str]:
    """The environment variables stocktool/settings/*.py read (env_int("NAME", ...), env.str("NAME", ...))."""
    names = set()
    for path in (ROOT / "stocktool" / "settings").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            func = node.func
            if (isinstance(func, ast.Name) and func.id in READERS) or (
                    isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"):
                names.add(node.args[0].value)
    return names


def example_names() -> set[str]:
    return set(re.findall(r"\b([A-Z][A-Z0-9_]{2,})=", (ROOT / ".env.example").read_text()))


def test_every_setting_is_in_the_example():
    read = settings_read()
    assert len(read) > 80  # (the check reads the settings, not nothing)
    assert sorted(read - example_names()) == []


def test_the_example_names_only_what_is_read():
    assert sorted(example_names() - settings_read()) == []
