"""The README and docs/: the CI commands are there, and every link and repository path they name exists. That
the README's Python examples run and print what it shows, and that every table of figures matches the report it
is rendered from, is tests/integration/test_readme_examples.py."""

import glob
import re

from conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Top-level folders whose paths are checked: these, and any other folder of the clone. Paths under
# ignored folders (runs/ holds training outputs) and outside the repository (../shared/data) are not.
ROOTS = {"src", "tests", "training", "results", "bench", "hub_configs", "docs", "examples", "models", ".ci"}
NOT_CHECKED = {".git", ".venv", "runs", "build", "dist", "modules", ".pytest_cache", ".ruff_cache"}
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
TOKEN = re.compile(r"[A-Za-z0-9_.*/-]+")


def test_readme_keeps_the_two_ci_commands():
    text = (REPO / "README.md").read_text()
    for name in ("main-command", "test-command"):
        assert re.search(rf"^<!-- {name} -->\n```bash\n\S.*\n```$", text, flags=re.M), name


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page) -> set[str]:
    text = FENCE.sub("", page.read_text())
    return {_slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


def _repo_paths(text: str) -> set[str]:
    """Tokens in code (inline spans and fenced blocks) that look like paths of this repository."""
    code = FENCE.findall(text) + re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
    roots = ROOTS | {p.name for p in REPO.iterdir() if p.is_dir()} - NOT_CHECKED
    found = set()
    for span in code:
        for token in TOKEN.findall(span):
            token = token.rstrip(".")
            if "/" in token and token.split("/")[0] in roots:
                found.add(token)
    return found


def test_every_link_and_path_exists():
    missing = []
    for page in PAGES:
        text = page.read_text()
        for target in LINK.findall(FENCE.sub("", text)):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists():
                missing.append(f"{page.name}: link {target}")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                missing.append(f"{page.name}: anchor {target}")
        for path in _repo_paths(text):
            if not glob.glob(str(REPO / path)):
                missing.append(f"{page.name}: path {path}")
    assert not missing, "\n".join(missing)


def test_path_finder_sees_paths():
    """The check above would catch a wrong path (guards against a pattern that matches nothing)."""
    found = _repo_paths("see `results/nothing-here.json` and\n```\npython training/no_such.py runs/x\n```\n")
    assert found == {"results/nothing-here.json", "training/no_such.py"}
