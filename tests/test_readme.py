"""The README's two set-up commands are the ones CI and learners run."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from readme_markers import site_command, site_output

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_exactly_two_setup_commands_and_the_site_command():
    commands = readme_commands()
    assert len(commands) == 3
    learn, test, site = commands
    assert site == site_command()
    assert "requirements.txt" in learn and "jupyter lab notebooks/00_start_here.ipynb" in learn
    assert "requirements-dev.txt" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    awk = "/<!-- test-command/{found=1; next} found && /^```bash/{inside=1; next} inside && /^```/{exit} inside{print}"
    assert awk in (ROOT / ".ci" / "run").read_text(), ".ci/run no longer extracts the command this test checks"
    extracted = subprocess.run(["awk", awk, str(ROOT / "README.md")], capture_output=True, text=True, check=True).stdout.strip()
    assert extracted == readme_commands()[1]


def test_readme_lesson_map_lists_every_lesson_notebook():
    readme = (ROOT / "README.md").read_text()
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{notebook.name}" in readme, f"{notebook.name} is missing from the README lesson map"


def notebook_minutes(path: Path) -> int:
    """The 'about N minutes' estimate in a notebook's first cell."""
    first_cell = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    match = re.search(r"about (\d+) minutes", first_cell)
    assert match, f"{path.name}: the first cell gives no 'about N minutes' estimate"
    return int(match.group(1))


def test_course_maps_agree_with_each_notebooks_own_time_estimate():
    readme = (ROOT / "README.md").read_text()
    start_here = "".join(json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())["cells"][1]["source"])
    for notebook in sorted((ROOT / "notebooks").glob("0[0-9]_*.ipynb")):
        minutes = notebook_minutes(notebook)
        assert re.search(rf"notebooks/{notebook.name}\) \|.*\| {minutes} min \|", readme), f"README time for {notebook.name}"
        assert re.search(rf"`{notebook.stem}` \|.*\| {minutes} min \|", start_here), f"00_start_here time for {notebook.name}"


def test_readme_says_what_to_do_when_jupyter_lab_refuses_root():
    # issue 13: `jupyter lab` refuses to start as root (Docker images, workshop VMs) and the README did not say so;
    # issue 25: the README links its troubleshooting page, which says it
    assert "(docs/troubleshooting.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    text = (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    assert "--allow-root" in text and "Running as root is not recommended" in text


def test_readme_keeps_the_commands_and_the_lessons_and_links_the_rest():
    # issue 25: learner, instructor and contributor text were mixed in one long README (and on the site's home page)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings == ["The lessons", "Set up", "Read the course as a website", "More", "Licence and citation"]
    for page in ("docs/troubleshooting.md", "docs/glossary.md", "docs/workshop.md", "docs/full_room.md",
                 "CONTRIBUTING.md", "docs/performance.md", "docs/gallery.md"):
        assert f"]({page})" in readme and (ROOT / page).exists(), f"the README does not link {page}"


def test_readme_names_the_site_command_and_its_git_ignored_output():
    # issue 15: tests/browser/test_site_browser.py builds the site with exactly this command (site_command())
    command, output = site_command(), site_output()
    assert command and "\n" not in command, "the site command is one line in a bash block after <!-- site-command -->"
    assert output is not None, "README.md has no <!-- site-output: PATH --> line"
    assert "build_site.py" in command
    ignored = subprocess.run(["git", "check-ignore", "-q", str(output / "index.html")], cwd=ROOT)
    assert ignored.returncode == 0, f"{output.relative_to(ROOT)} must be git-ignored (the site is built, never stored)"
    browser_test = (ROOT / "tests" / "browser" / "test_site_browser.py").read_text(encoding="utf-8")
    assert "site_command()" in browser_test and "site_output()" in browser_test


def test_pages_workflow_builds_the_readme_site_command_and_publishes_its_output():
    workflow = (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    assert f"&& {site_command()}\n" in workflow, "pages.yml must run the README's site command"
    assert f"path: {site_output().relative_to(ROOT).as_posix()}\n" in workflow
    for action in ("actions/checkout@", "actions/setup-python@", "actions/upload-pages-artifact@", "actions/deploy-pages@"):
        assert action in workflow
    assert "branches: [main]" in workflow


def test_course_maps_list_the_lessons_in_file_order_and_a_continuation_follows_its_lesson():
    # issue 25: preference tuning continues lesson 2 but was file 06, after fine-tuning, vision and tiers
    readme = (ROOT / "README.md").read_text()
    start_here = "".join(json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())["cells"][1]["source"])
    for name, rows in (("README", re.findall(r"^\| \[`(\d\d)_\w+`\].*$", readme, re.M)),
                       ("00_start_here", re.findall(r"^\| `(\d\d)_\w+` .*$", start_here, re.M))):
        assert rows == sorted(rows) and len(rows) >= 9, f"{name}: lessons listed out of file order: {rows}"
    for number, text in re.findall(r"^\| \[`(\d\d)_\w+`\][^|]*\|([^|]*)\|", readme, re.M):
        continued = re.search(r"continues lesson (\d+)", text)
        if continued:
            assert int(number) == int(continued.group(1)) + 1, f"lesson {number} continues lesson {continued.group(1)}"


def test_the_chinese_readme_gives_the_two_commands_and_opens_the_chinese_course():
    # issue 26: README.zh-CN.md gives the two commands and the way to open the Chinese course; README.md points to it
    chinese = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    learn, test = re.findall(r"```bash\n(.*?)\n```", chinese, re.S)
    english_learn, english_test = readme_commands()[:2]
    assert learn == english_learn.replace("notebooks/00_start_here.ipynb", "notebooks/zh_CN/00_start_here.ipynb")
    assert learn != english_learn and (ROOT / "notebooks" / "zh_CN" / "00_start_here.ipynb").exists()
    assert test == english_test  # the same tests: the Chinese notebooks are part of the suite
    assert f"`{site_command()}`" in chinese and f"`{site_output().relative_to(ROOT)}/zh_CN/`" in chinese
    pages = re.search(r"\*\*<(https://\S+)>\*\*", (ROOT / "README.md").read_text(encoding="utf-8")).group(1)
    assert f"**<{pages}zh_CN/>**" in chinese  # the Chinese website, beside the English one
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(README.zh-CN.md)" in readme and f"<{pages}zh_CN/>" in readme
