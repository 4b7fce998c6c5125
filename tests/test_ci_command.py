"""CI runs exactly the README's test command, and that command checks the style."""

from __future__ import annotations

from geoapp.config import PROJECT_ROOT


def readme_commands() -> list[str]:
    """The commands of the README's opening code block, without their comments."""
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("   #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_opens_with_two_commands_and_ci_runs_the_second():
    commands = readme_commands()
    assert len(commands) == 2
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in [line.strip() for line in ci]


def test_the_test_command_checks_format_and_lint():
    test_command = readme_commands()[1]
    assert "ruff format --check geoapp tests" in test_command
    assert "ruff check geoapp tests" in test_command
