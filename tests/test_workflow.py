"""cardbook in a user's workflow: the pre-commit hooks and the CI workflows of the CI guide.

The hooks run through the real `pre-commit`, which installs cardbook from a git repository
holding the package files as they are in this working tree. The workflows are read from
docs/guides/ci.md and their `run:` steps are run in order, in a fresh clone of a user's
runbook, inside a fresh virtualenv that the install step fills from a wheel of this working
tree. Both installs need the package index (pip fetches hatchling and cardbook's
dependencies); one hook environment and one virtualenv serve the whole module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from helpers import HELLO_DERIVATION, card, fence, run_cardbook, write_tree

REPOSITORY = Path(__file__).resolve().parent.parent
CI_GUIDE = REPOSITORY / "docs/guides/ci.md"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
# What `pip install .` of a clone of cardbook's repository sees, and the hook manifest.
PACKAGE_FILES = ("pyproject.toml", "README.md", "plugins", ".pre-commit-hooks.yaml")
# The workflows the guide must show, one per folder a forge reads.
WORKFLOWS = (".github/workflows/runbook.yml", ".forgejo/workflows/runbook.yml")
WORKFLOW_TITLE = re.compile(r"^\.(github|forgejo|gitea)/workflows/[^/]+\.ya?ml$")
REQUIREMENTS = "requirements-docs.txt"
# Offline Nix, as in test_nix.py: this machine need not reach a binary cache, and the
# runbook's one derivation needs none. It replaces the guide's NIX_CONFIG, which names the
# public cache for a hosted runner. No search path either, so that whether <nixpkgs> is
# found does not depend on the machine's channels.
NIX_ENV = {"NIX_CONFIG": "substituters =\nexperimental-features = nix-command flakes", "NIX_PATH": ""}

HELLO_NIX = HELLO_DERIVATION
# The same output in nixpkgs' callPackage style: it builds only where Nix finds <nixpkgs>.
HELLO_FROM_NIXPKGS = ("{ runCommand }:", 'runCommand "hello" { } "echo hello > $out"')
# A site as a user's would be: Material's theme, which the mkdocs extra brings.
RUNBOOK = {
    "mkdocs.yml": "site_name: A runbook\ntheme:\n  name: material\n"
    "markdown_extensions:\n  - attr_list\n  - pymdownx.superfences\nplugins:\n  - search\n  - cardbook\n",
    "docs/index.md": "# A runbook\n\nStart with [[hello]].\n",
}


def hello_card(
    *, file: str = "nix/hello.nix", nix: tuple[str, ...] = HELLO_NIX, verify: str = 'grep -q hello "$out"'
) -> str:
    return card(
        title="Say hello",
        extra=f"build: {file}",
        body="\nBuild a file that says hello.\n\n"
        + fence(f"```nix {{file={file}}}", *nix)
        + "\n"
        + fence("```sh {.check}", verify),
    )


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only line containing needle."""
    lines = [number for number, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would leak into the temporary repositories.

    GIT_* variables are set when the suite runs inside a git hook (GIT_DIR, GIT_INDEX_FILE
    would point every git command at the outer repository), the machine's git configuration
    must not decide branch names or signing, and VIRTUAL_ENV/PYTHONPATH belong to the
    project's venv, not to the environments under test."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1")
    env.update(extra)
    return env


def run(
    args: list[str | os.PathLike[str]], cwd: Path, env: Mapping[str, str], *, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a command, stdout and stderr interleaved as a log shows them."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def git(repo: Path, *args: str) -> str:
    result = run(["git", *args], repo, clean_env(), timeout=60)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stdout}"
    return result.stdout


def git_init(repo: Path) -> None:
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "A user")
    git(repo, "config", "user.email", "user@example.org")


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


# The guide ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    language: str
    title: str
    body: str


def titled_blocks(markdown: str) -> dict[str, Block]:
    """The guide's top-level fences with a title="..." attribute, by title."""
    blocks: dict[str, Block] = {}
    lines = markdown.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        opening = re.match(r"^(`{3,})(\S*)(.*)$", lines[i].rstrip("\n"))
        if opening is None:
            i += 1
            continue
        ticks, language, rest = opening.groups()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == ticks), None)
        assert end is not None, f"{CI_GUIDE.name}:{i + 1}: the fence is never closed"
        title = re.search(r'title="([^"]+)"', rest)
        if title is not None:
            assert title[1] not in blocks, f"two blocks titled {title[1]}"
            blocks[title[1]] = Block(language, title[1], "".join(lines[i + 1 : end]))
        i = end + 1
    return blocks


@pytest.fixture(scope="module")
def guide() -> dict[str, Block]:
    return titled_blocks(CI_GUIDE.read_text(encoding="utf-8"))


def precommit_config(guide: Mapping[str, Block], repo: Path, rev: str) -> str:
    """The guide's .pre-commit-config.yaml with cardbook's address and tag replaced by ours."""
    config = yaml.safe_load(guide[".pre-commit-config.yaml"].body)
    assert len(config["repos"]) == 1, config
    config["repos"][0].update(repo=str(repo), rev=rev)
    return yaml.safe_dump(config, sort_keys=False)


# The package and a user's runbook ------------------------------------------------------


@pytest.fixture(scope="module")
def package_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """cardbook's package files as they are in the working tree, committed in a repository
    of their own: what pre-commit clones and installs. Returns the path and the commit."""
    root = tmp_path_factory.mktemp("cardbook-package")
    for name in PACKAGE_FILES:
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, root / name)
    git_init(root)
    return root, commit_all(root, "cardbook")


def make_runbook(root: Path, files: Mapping[str, str]) -> Path:
    """A user's runbook repository: the files, nix/ tangled by this project's cardbook, committed."""
    write_tree(root, {**RUNBOOK, **files})
    tangled = run_cardbook(["tangle"], root)
    assert tangled.returncode == 0, tangled.stdout + tangled.stderr
    git_init(root)
    commit_all(root, "runbook")
    return root


# pre-commit ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit's cache in a temporary folder, so the machine's cache is left alone."""
    return clean_env(PRE_COMMIT_HOME=str(tmp_path_factory.mktemp("pre-commit-home")))


@pytest.fixture(scope="module")
def installed_hooks(
    package_repo: tuple[Path, str],
    hook_env: dict[str, str],
    guide: dict[str, Block],
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """Install the hook environment once (pip install of the package repository); every
    runbook below names the same repository and commit, so pre-commit reuses it. Returns
    the runbook's .pre-commit-config.yaml."""
    if not PRE_COMMIT.exists():
        pytest.fail(f"{PRE_COMMIT} is missing: run `uv sync --frozen --all-extras`")
    config = precommit_config(guide, *package_repo)
    root = make_runbook(
        tmp_path_factory.mktemp("install-hooks"),
        {"docs/how-to/hello.md": hello_card(), ".pre-commit-config.yaml": config},
    )
    installed = run([PRE_COMMIT, "install-hooks"], root, hook_env, timeout=600)
    assert installed.returncode == 0, installed.stdout
    return config


@pytest.fixture
def hooked_runbook(tmp_path: Path, installed_hooks: str) -> Path:
    return make_runbook(
        tmp_path, {"docs/how-to/hello.md": hello_card(), ".pre-commit-config.yaml": installed_hooks}
    )


def drift(root: Path) -> int:
    """Edit the card's Nix block without tangling; the card line that changed."""
    path = root / "docs/how-to/hello.md"
    text = path.read_text(encoding="utf-8").replace("echo hello >", "echo hello again >")
    path.write_text(text, encoding="utf-8")
    return line_of(text, "echo hello again")


def pre_commit(root: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([PRE_COMMIT, *args], root, env)


def test_the_hook_manifest_is_valid(hook_env: dict[str, str]) -> None:
    result = run([PRE_COMMIT, "validate-manifest", ".pre-commit-hooks.yaml"], REPOSITORY, hook_env)
    assert result.returncode == 0, result.stdout


def test_a_clean_runbook_passes_both_hooks(hooked_runbook: Path, hook_env: dict[str, str]) -> None:
    result = pre_commit(hooked_runbook, hook_env, "run", "--all-files")
    assert result.returncode == 0, result.stdout
    assert re.search(r"^cardbook tangle\.+Passed$", result.stdout, re.M), result.stdout
    assert re.search(r"^cardbook check\.+Passed$", result.stdout, re.M), result.stdout


def test_the_check_hook_names_the_drifted_file_and_the_card_line(
    hooked_runbook: Path, hook_env: dict[str, str]
) -> None:
    generated = (hooked_runbook / "nix/hello.nix").read_text(encoding="utf-8")
    line = drift(hooked_runbook)
    result = pre_commit(hooked_runbook, hook_env, "run", "cardbook-check", "--all-files")
    assert result.returncode == 1, result.stdout
    assert re.search(r"^cardbook check\.+Failed$", result.stdout, re.M), result.stdout
    assert re.search(
        rf"^docs/how-to/hello\.md:{line}: error: nix/hello\.nix:\d+ is out of date", result.stdout, re.M
    ), result.stdout
    assert "--- nix/hello.nix (on disk)" in result.stdout, result.stdout
    # A check never writes.
    assert (hooked_runbook / "nix/hello.nix").read_text(encoding="utf-8") == generated


def test_the_tangle_hook_rewrites_the_generated_files(hooked_runbook: Path, hook_env: dict[str, str]) -> None:
    drift(hooked_runbook)
    result = pre_commit(hooked_runbook, hook_env, "run", "cardbook-tangle", "--all-files")
    # pre-commit fails a hook that changed files: the rewrite is there to be reviewed.
    assert result.returncode == 1, result.stdout
    assert "files were modified by this hook" in result.stdout, result.stdout
    assert "echo hello again" in (hooked_runbook / "nix/hello.nix").read_text(encoding="utf-8")
    again = pre_commit(hooked_runbook, hook_env, "run", "--all-files")
    assert again.returncode == 0, again.stdout


def test_a_commit_waits_until_the_generated_files_are_staged(
    hooked_runbook: Path, hook_env: dict[str, str]
) -> None:
    """The real sequence: `pre-commit install`, then `git commit` of a card alone."""
    installed = pre_commit(hooked_runbook, hook_env, "install")
    assert installed.returncode == 0, installed.stdout
    before = git(hooked_runbook, "rev-parse", "HEAD")
    drift(hooked_runbook)
    git(hooked_runbook, "add", "docs")
    refused = run(["git", "commit", "-m", "say it again"], hooked_runbook, hook_env)
    assert refused.returncode == 1, refused.stdout
    assert "files were modified by this hook" in refused.stdout, refused.stdout
    assert git(hooked_runbook, "rev-parse", "HEAD") == before
    # The tangle hook left the rewritten file in the working tree, unstaged.
    assert git(hooked_runbook, "status", "--porcelain").splitlines() == [
        "M  docs/how-to/hello.md",
        " M nix/hello.nix",
    ]
    git(hooked_runbook, "add", "nix")
    committed = run(["git", "commit", "-m", "say it again"], hooked_runbook, hook_env)
    assert committed.returncode == 0, committed.stdout
    assert "echo hello again" in git(hooked_runbook, "show", "HEAD:nix/hello.nix")


def test_a_commit_that_only_deletes_a_generated_file_is_checked(
    hooked_runbook: Path, hook_env: dict[str, str]
) -> None:
    """pre-commit passes no deleted file to hooks: only always_run makes the check run here."""
    git(hooked_runbook, "rm", "-q", "nix/hello.nix")
    result = pre_commit(hooked_runbook, hook_env, "run", "cardbook-check")
    assert result.returncode == 1, result.stdout
    assert re.search(r"^docs/how-to/hello\.md:\d+: error: nix/hello\.nix: missing", result.stdout, re.M), (
        result.stdout
    )


# The CI workflows ------------------------------------------------------------------------


def nix_missing() -> str | None:
    if shutil.which("nix-build") is None or shutil.which("nix-instantiate") is None:
        return "nix is not installed (Debian: apt-get install nix-bin; scripts/test does it as root)"
    return None


@pytest.fixture(scope="module")
def ci_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv standing in for the runner's Python (actions/setup-python).

    Made by virtualenv (pre-commit's dependency, so it is here): the same layout as
    `python3 -m venv`, but it seeds pip in about a second where ensurepip takes 6 to 10."""
    venv = tmp_path_factory.mktemp("ci") / "venv"
    created = run(
        [sys.executable, "-m", "virtualenv", "--quiet", venv], venv.parent, clean_env(), timeout=120
    )
    assert created.returncode == 0, created.stdout
    return venv


@pytest.fixture(scope="module")
def wheel(package_repo: tuple[Path, str], ci_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel of this working tree, for the requirements file the install step reads."""
    out = tmp_path_factory.mktemp("wheel")
    source = package_repo[0]
    uv = shutil.which("uv")
    if uv is not None:
        command = [uv, "build", "--wheel", "--quiet", "--python", sys.executable, "--out-dir", out, source]
    else:  # pip builds it too, only slower
        command = [ci_venv / "bin/python", "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, source]
    built = run(command, source, clean_env(), timeout=300)
    assert built.returncode == 0, built.stdout
    (path,) = out.glob("cardbook-*.whl")
    return path


@dataclass
class StepRun:
    job: str
    command: str
    returncode: int
    output: str
    seconds: float


@dataclass
class WorkflowRun:
    steps: list[StepRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why a step did not run
    not_started: list[str] = field(default_factory=list)  # jobs whose `needs` failed

    def failed(self) -> list[StepRun]:
        return [step for step in self.steps if step.returncode != 0]

    def log(self) -> str:
        return "\n".join(
            f"[{s.job}] $ {s.command}\n{s.output}(exit {s.returncode} after {s.seconds:.1f} s)"
            for s in self.steps
        )


# What a runner does that this test does not: it runs no `uses:` step (the test supplies
# the checkout and the Python) and evaluates no expressions or conditions.
JOB_KEYS = {"name", "runs-on", "needs", "steps", "env", "timeout-minutes", "permissions"}
STEP_KEYS = {"name", "id", "uses", "with", "run", "env", "timeout-minutes"}


def load_workflow(block: Block) -> dict[str, Any]:
    assert block.language == "yaml", block.title
    assert "${{" not in block.body, f"{block.title}: the test does not evaluate expressions"
    workflow = yaml.safe_load(block.body)
    assert isinstance(workflow, dict) and workflow.get("jobs"), block.title
    return workflow


def run_workflow(workflow: dict[str, Any], runbook: Path, venv: Path, wheel: Path, work: Path) -> WorkflowRun:
    """Every job in order, each in a fresh clone of the runbook; `run:` steps only."""
    result = WorkflowRun()
    finished: dict[str, bool] = {}
    for job_id, job in workflow["jobs"].items():
        assert set(job) <= JOB_KEYS, f"job {job_id}: the test cannot simulate {set(job) - JOB_KEYS}"
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        # Document order must already be a valid order: a job only needs earlier ones.
        assert all(need in finished for need in needs), f"job {job_id} needs {needs}"
        if not all(finished[need] for need in needs):
            result.not_started.append(job_id)
            finished[job_id] = False
            continue
        finished[job_id] = run_job(workflow, job_id, job, runbook, venv, wheel, work, result)
    return result


def run_job(
    workflow: dict[str, Any],
    job_id: str,
    job: dict[str, Any],
    runbook: Path,
    venv: Path,
    wheel: Path,
    work: Path,
    result: WorkflowRun,
) -> bool:
    checkout = work / job_id
    git(work, "clone", "-q", str(runbook), str(checkout))
    # The install step reads the pinned requirements file; here it pins this working tree.
    (checkout / REQUIREMENTS).write_text(f"cardbook[mkdocs] @ {wheel.as_uri()}\n", encoding="utf-8")
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert any(
        re.fullmatch(rf"pip install -r {re.escape(REQUIREMENTS)}", command.strip()) for command in commands
    ), f"job {job_id}: no step installs from {REQUIREMENTS}, so the test cannot supply cardbook"
    for step in job["steps"]:
        assert set(step) <= STEP_KEYS, f"job {job_id}: the test cannot simulate {set(step) - STEP_KEYS}"
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            continue
        command = step["run"].strip()
        declared = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
        # CI and GITHUB_ACTIONS as a runner sets them (Forgejo's and Gitea's runners too).
        env = clean_env(
            CI="true",
            GITHUB_ACTIONS="true",
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            PIP_NO_COMPILE="1",  # a few seconds saved; the first import writes the bytecode anyway
            **{key: str(value) for key, value in declared.items()},
        )
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
        env["VIRTUAL_ENV"] = str(venv)
        if "--nix" in command.split():
            missing = nix_missing()
            if missing is not None:
                if os.environ.get("CI") == "true":
                    pytest.fail(f"{missing}; CI=true: the Nix step must run")
                result.skipped.append(f"[{job_id}] {command}: {missing}")
                continue
            env.update(NIX_ENV)
        # A runner runs a step without `shell:` as `bash -e {file}`.
        started = time.monotonic()
        done = run(["bash", "--noprofile", "--norc", "-e", "-c", command], checkout, env, timeout=600)
        result.steps.append(
            StepRun(job_id, command, done.returncode, done.stdout, time.monotonic() - started)
        )
        if done.returncode != 0:
            return False
    # No step rewrote a committed file: `mkdocs build` tangles into nix/, to the same bytes.
    changed = git(checkout, "status", "--porcelain", "--untracked-files=no").splitlines()
    assert changed == [f" M {REQUIREMENTS}"], changed
    return True


class GuideWorkflow(Protocol):
    def __call__(
        self, title: str, cards: Mapping[str, str], *, pushed: Mapping[str, str] | None = None
    ) -> WorkflowRun: ...


@pytest.fixture
def run_guide_workflow(guide: dict[str, Block], ci_venv: Path, wheel: Path, tmp_path: Path) -> GuideWorkflow:
    """Run the guide's workflow (by path) on a runbook with these cards, tangled and
    committed; `pushed` holds later texts of cards, committed without tangling."""

    def runner(
        title: str, cards: Mapping[str, str], *, pushed: Mapping[str, str] | None = None
    ) -> WorkflowRun:
        runbook = make_runbook(tmp_path / "runbook", {**cards, REQUIREMENTS: guide[REQUIREMENTS].body})
        if pushed:
            write_tree(runbook, pushed)
            commit_all(runbook, "edit the cards")
        work = tmp_path / "runner"
        work.mkdir()
        return run_workflow(load_workflow(guide[title]), runbook, ci_venv, wheel, work)

    return runner


def commands_by_job(workflow: Mapping[str, Any]) -> dict[str, tuple[Any, list[tuple[str, Any]]]]:
    """What the test runs of each job: the jobs it needs, and its `run:` steps with their env."""
    return {
        job_id: (job.get("needs"), [(step["run"], step.get("env")) for step in job["steps"] if "run" in step])
        for job_id, job in workflow["jobs"].items()
    }


def test_the_guide_shows_the_workflows_this_module_runs(guide: dict[str, Block]) -> None:
    """A workflow added to the guide must be added to WORKFLOWS, or it would go untested."""
    assert sorted(title for title in guide if WORKFLOW_TITLE.match(title)) == sorted(WORKFLOWS)
    assert REQUIREMENTS in guide, "the guide must show the requirements file the install step reads"


def test_the_workflows_run_the_same_commands(guide: dict[str, Block]) -> None:
    """They differ in folder, runners and how Nix gets there; the failure scenarios below run
    on the first workflow only, which is enough while the commands are the same."""
    first, *others = (commands_by_job(load_workflow(guide[title])) for title in WORKFLOWS)
    for other in others:
        assert other == first


def skip_if_steps_skipped(outcome: WorkflowRun) -> None:
    if outcome.skipped:
        pytest.skip(f"{len(outcome.steps)} steps passed; not run: {'; '.join(outcome.skipped)}")


HELLO = "docs/how-to/hello.md"


@pytest.mark.parametrize("title", WORKFLOWS)
def test_every_step_passes_on_a_clean_runbook(title: str, run_guide_workflow: GuideWorkflow) -> None:
    outcome = run_guide_workflow(title, {HELLO: hello_card()})
    assert not outcome.failed() and not outcome.not_started, outcome.log()
    commands = [step.command for step in outcome.steps]
    assert any(command.startswith("mkdocs build") for command in commands), commands
    assert not any("::error" in step.output for step in outcome.steps), outcome.log()
    skip_if_steps_skipped(outcome)
    assert any("--nix" in command.split() for command in commands), commands


def test_drift_fails_the_check_job_with_an_annotation_on_the_card_line(
    run_guide_workflow: GuideWorkflow,
) -> None:
    """A pushed commit whose card changed without its nix/ file: `--format github` names the
    card line in a workflow command, and the Nix job does not start."""
    drifted = hello_card().replace("echo hello >", "echo hello again >")
    outcome = run_guide_workflow(WORKFLOWS[0], {HELLO: hello_card()}, pushed={HELLO: drifted})
    (failed,) = outcome.failed()
    assert failed.command.startswith("cardbook check") and "--nix" not in failed.command.split(), (
        outcome.log()
    )
    assert failed.returncode == 1, outcome.log()
    line = line_of(drifted, "echo hello again")
    assert re.search(
        rf"^::error file=docs/how-to/hello\.md,line={line}(,[^:]*)?::nix/hello\.nix:\d+ is out of date",
        failed.output,
        re.M,
    ), failed.output
    assert outcome.not_started == ["nix"], outcome.log()


def test_the_nix_job_fails_with_annotations_on_the_card_lines(run_guide_workflow: GuideWorkflow) -> None:
    """The cards are sound, so the check job passes, but one card's {.check} block fails after
    its build, and another card needs <nixpkgs>, which Nix does not find here: without
    --no-skip that card would be skipped and the job would pass."""
    failing = hello_card(verify='grep -q goodbye "$out"')
    needs_nixpkgs = hello_card(file="nix/from-nixpkgs.nix", nix=HELLO_FROM_NIXPKGS)
    outcome = run_guide_workflow(WORKFLOWS[0], {HELLO: failing, "docs/how-to/from-nixpkgs.md": needs_nixpkgs})
    skip_if_steps_skipped(outcome)
    (failed,) = outcome.failed()
    assert failed.job == "nix" and "--nix" in failed.command.split(), outcome.log()
    assert failed.returncode == 1, outcome.log()
    annotations = [line for line in failed.output.splitlines() if line.startswith("::error ")]
    check_line = line_of(failing, "grep -q goodbye")  # the command that failed
    build_line = line_of(needs_nixpkgs, "build: nix/from-nixpkgs.nix")
    expected = [
        rf"::error file=docs/how-to/from-nixpkgs\.md,line={build_line}(,[^:]*)?::not built: needs <nixpkgs>",
        rf"::error file=docs/how-to/hello\.md,line={check_line}(,[^:]*)?::check failed",
    ]
    assert len(annotations) == len(expected), failed.output
    for pattern in expected:
        assert any(re.match(pattern, annotation) for annotation in annotations), (pattern, annotations)
