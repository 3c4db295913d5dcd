"""The README runs as written: every `kaipai …` command line in it, in its code blocks, its command
table and its text, is run as a newcomer would type it, at 80 columns.

Code blocks run first, in order, as the tutorial they are (``cd`` moves into the project they make);
then every command the text and the table name, in the project the tutorial made. A usage line such
as ``kaipai render [--dry-run] [--budget X] …`` runs bare and with every option; ``a|b`` runs each
alternative where it names a command (``export otio|edl``) and the first one of an option's values.
Placeholders (``SHOT``, ``TAKE``, ``FILE`` …) are filled from the project and from files made here.
Commands that need a server run against the protocol doubles (ComfyUI for ``backends check NAME``,
an OpenAI-compatible chat server for ``write``); the studio runs in its own process until it answers.
None may end in a usage error or a traceback; the few that need what a newcomer has not set up must
say so in one clean message.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import shellingham
from click.testing import Result
from typer.main import get_command
from typer.testing import CliRunner

from kaipai.backends.base import NotConfigured
from kaipai.cli import app
from tests.backends.doubles.comfyui_double import ComfyDouble
from tests.backends.doubles.server import serve
from tests.backends.test_openai_planner import KEY, ChatCompletionsDouble
from tests.cli.conftest import MARKUP, newcomer
from tests.support.certificates import make_chain

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
#: Commands that make a project or need none run in the folder holding the projects.
OUTSIDE = ("demo", "new", "write", "--install-completion")
#: Command lines that may end with exit status 1, and what their one message must say.
REFUSALS = {"--note": "language-model planner"}
SCRIPT = """Title: The Keeper

EXT. HARBOUR PIER - NIGHT

Rain on the planks. MAYA walks to the lantern.

MAYA
You are still here.

ELI
(quietly)
Always.
"""

runner = CliRunner()


# --------------------------------------------------------------------------- reading the README


@dataclass
class Line:
    """One command line: its words, where in the README it is, and whether it is a tutorial step."""

    words: list[str]
    where: str
    block: int | None = None  # the code block it belongs to (None: named in the text or the table)


def code_blocks(text: str) -> list[list[str]]:
    """The shell lines of every bash code block (``kaipai …`` and ``cd …`` segments, comments dropped)."""
    blocks = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S):
        if lang not in ("bash", "sh", "shell", ""):
            continue
        lines = []
        for raw in body.splitlines():
            for segment in re.split(r"&&|;", raw.split(" #")[0]):
                segment = segment.strip().removeprefix("$ ")
                if segment.startswith(("kaipai ", "cd ")):
                    lines.append(segment)
        if lines:
            blocks.append(lines)
    return blocks


def spans(text: str) -> list[str]:
    """Every `kaipai …` named in the text and the command table, in order, as one line each."""
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    found = []
    for row in prose.splitlines():
        if row.startswith("| `kaipai"):  # a table row: the first cell may name several, the later ones bare
            first = row.split(" | ")[0]
            for n, span in enumerate(re.findall(r"`([^`]+)`", first)):
                found.append(span if span.startswith("kaipai ") or n == 0 else f"kaipai {span}")
    for match in re.finditer(r"`(kaipai\s[^`]*)`", prose):
        found.append(match.group(1))
    return [" ".join(s.replace("\\|", "|").split()) for s in found]


def expand(usage: str) -> list[list[str]]:
    """The command lines a usage line stands for: bare, with every optional part, and each alternative
    of a word that names a command (an option's values: the first)."""
    tokens = re.findall(r"\[|\]|\"[^\"]*\"|[^\s\[\]]+", usage)

    def parse(at: int) -> tuple[list, int]:
        out: list = []
        while at < len(tokens):
            token = tokens[at]
            if token == "[":
                group, at = parse(at + 1)
                out.append(group)
            elif token == "]":
                return out, at + 1
            else:
                out.append(token)
                at += 1
        return out, at

    tree, _ = parse(0)

    def words(nodes: list, optional: bool, pick: int = 0) -> list[str]:
        out: list[str] = []
        for node in nodes:
            if isinstance(node, list):
                if optional:
                    out += words(node, optional)
            else:
                choices = node.split("|")
                out.append(choices[min(pick, len(choices) - 1)] if not node.startswith("-") else node)
        return out

    lines = [words(tree, False), words(tree, True)]
    for node in tree:  # a required word with alternatives: each runs
        if isinstance(node, str) and "|" in node:
            lines += [words(tree, False, pick) for pick in range(len(node.split("|")))]
    unique: list[list[str]] = []
    for line in lines:
        line = [w.strip('"') if w.startswith('"') else w for w in line]
        if line not in unique:
            unique.append(line)
    return unique


def readme_lines() -> list[Line]:
    text = README.read_text(encoding="utf-8")
    lines = [
        Line(shlex.split(line, comments=True), line, block)
        for block, body in enumerate(code_blocks(text))
        for line in body
    ]
    for usage in spans(text):
        lines += [Line(words, usage) for words in expand(usage)]
    return lines


# --------------------------------------------------------------------------- filling placeholders


class Filler:
    """Values for a usage line's placeholders, from the project and from files made here."""

    def __init__(self, top: Path, project: Path) -> None:
        self.top, self.project, self.count = top, project, 0

    def takes(self, shot: str) -> list[dict]:
        done = runner.invoke(app, ["takes", shot, "--json", "-p", str(self.project)])
        return json.loads(done.stdout)

    def shot(self) -> dict:
        done = runner.invoke(app, ["shots", "--json", "-p", str(self.project)])
        return next(s for s in json.loads(done.stdout) if s["dialogue"])

    def __call__(self, words: list[str]) -> list[str]:
        command = next((w for w in words[1:] if not w.startswith("-")), "")
        out = []
        for n, word in enumerate(words):
            placeholder = re.fullmatch(r"([A-Z]+)(\.\.\.)?", word)
            out.append(self.value(placeholder.group(1), command, words[n - 1]) if placeholder else word)
        return [w.replace("HEAD:", "127.0.0.1:") for w in out]

    def value(self, name: str, command: str, before: str) -> str:
        shot = self.shot() if name in ("SHOT", "ID", "TAKE") else {"id": "", "scene": ""}
        if name == "DIR":
            if command == "demo":
                return "kaipai-demo"  # the demo made first, reused
            self.count += 1
            return f"new-film-{self.count}"
        if name == "TAKE":  # circle the circled clip again; reject the retake (a pending clip)
            clips = [t for t in self.takes(shot["id"]) if t["stage"] == "clip"]
            wanted = ("pending", "rejected") if command == "reject" else ("circled",)
            return str(next(t["id"] for status in wanted for t in reversed(clips) if t["status"] == status))
        return {
            "FILE": "my-script.fountain" if command == "new" else "film.mp4",
            "IDEA": "末班车司机的最后一天",
            "SHOT": shot["id"],
            "ID": shot["id"] if before == "--shot" else shot["scene"],
            "X": "5",
            "S": "keyframe",
            "N": "0" if before == "--port" else "7",
            "TEXT": "closer on her eyes",
            "ADDR": "127.0.0.1:6379",
            "PEM": "root.pem",
            "NAME": "comfyui",
        }[name]


# --------------------------------------------------------------------------- running


def studio(words: list[str], cwd: Path) -> None:
    """The studio serves until stopped: run it, see it answer, stop it with Ctrl-C."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "BROWSER": "true"}
    process = subprocess.Popen(
        [sys.executable, "-m", "kaipai", *words[1:]],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = []
        for line in process.stdout:  # type: ignore[union-attr]
            seen.append(line)
            if url := re.search(r"open (http\S+)", line):
                for _ in range(100):  # the URL is printed just before the server starts listening
                    try:
                        answer = httpx.get(url.group(1), timeout=30, follow_redirects=True)
                        break
                    except httpx.ConnectError:
                        time.sleep(0.1)
                assert answer.status_code == 200
                break
        else:
            raise AssertionError(f"{' '.join(words)} printed no URL:\n{''.join(seen)}")
    finally:
        process.send_signal(signal.SIGINT)
        rest = process.communicate(timeout=30)[0]
    assert process.returncode == 0 and "Traceback" not in rest, rest


def run(line: Line, words: list[str], cwd: Path) -> Result | None:
    if words[1] == "studio":
        studio(words, cwd)
        return None
    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(app, words[1:], prog_name="kaipai")
    finally:
        os.chdir(here)
    shown = f"{' '.join(words)} (README: {line.where})"
    assert "Traceback" not in result.output, f"{shown} printed a traceback:\n{result.output}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{shown} crashed: {result.exception!r}\n{result.output}")
    assert result.exit_code != 2, f"{shown} is a usage error:\n{result.output}"
    if "--json" not in words:
        assert not MARKUP.search(result.output), f"{shown} printed markup:\n{result.output}"
    refusal = next((said for flag, said in REFUSALS.items() if flag in words), None)
    if refusal and result.exit_code == 1:
        assert refusal in result.output and result.output.strip().startswith("error"), result.output
    else:
        assert result.exit_code == 0, f"{shown} failed:\n{result.output}"
    return result


@pytest.mark.xdist_group("demo")
def test_every_command_line_in_the_readme_runs(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    top = demo.parent
    newcomer(monkeypatch, top)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # where shell completion is installed
    monkeypatch.setenv("SHELL", "/bin/bash")
    # Typer finds the shell to install completion for among the parent processes; the newcomer types in bash
    monkeypatch.setattr(shellingham, "detect_shell", lambda *args, **kwargs: ("bash", "/bin/bash"))
    chat = ChatCompletionsDouble()  # `kaipai write` outside a project: the OpenAI-compatible planner
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("KAIPAI_OPENAI_BASE_URL", chat.base_url)
    monkeypatch.setenv("KAIPAI_OPENAI_MODEL", "double-1")
    # The README's cluster lines render nothing when the project is current, so Ray is never opened;
    # if it were, this says so at once instead of waiting for a cluster that is not there.
    cluster = types.ModuleType("kaipai.engine.cluster.executor")

    def no_cluster(*args: object, **kwargs: object) -> None:
        raise NotConfigured("this test has no Ray cluster: the render was expected to have nothing to send")

    cluster.RayExecutor = no_cluster  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "kaipai.engine.cluster.executor", cluster)
    (top / "my-script.fountain").write_text(SCRIPT, encoding="utf-8")

    project = top / "my-film"
    fill = Filler(top, project)
    ran: list[list[str]] = []
    with serve(ComfyDouble().app()) as comfy_url, contextlib.ExitStack() as stack:
        stack.callback(chat.server.shutdown)
        monkeypatch.setenv("KAIPAI_COMFYUI_URL", comfy_url)
        block, cwd = None, top
        for line in readme_lines():
            if line.block != block:  # a block starts in the project the tutorial made, unless it makes one
                block = line.block
                cwd = top if line.words[1] in OUTSIDE or not project.exists() else project
            if line.words[0] == "cd":
                cwd = cwd / line.words[1]
                continue
            if line.block is None and project.exists() and not (project / "film.mp4").exists():
                shutil.copy(project / "output" / "film.mp4", project / "film.mp4")  # the FILE `verify` reads
                (project / "root.pem").write_text(make_chain().root)
            if line.words in ran and line.block is None:
                continue  # named again in the text: once is enough
            words = fill(line.words)
            where = top if any(w in OUTSIDE for w in words[1:2]) else cwd if line.block is not None else project
            started = time.monotonic()
            run(line, words, where)
            ran.append(line.words)
            if os.environ.get("KAIPAI_README_TIMES"):
                print(f"{time.monotonic() - started:6.1f} s  {' '.join(words)}")
    assert (tmp_path / "home" / ".bash_completions" / "kaipai.sh").is_file()  # completion was installed
    assert len(ran) > 40


def test_the_readme_names_every_command_and_only_options_the_commands_have() -> None:
    """The command table and the `--help` of each command agree."""
    root = get_command(app)
    text = README.read_text(encoding="utf-8")
    table = [s for s in spans(text) if s.startswith("kaipai ")]
    named: set[str] = set()
    for usage in table:
        for words in expand(usage):
            command, at = root, 1
            while at < len(words) and hasattr(command, "commands") and words[at] in command.commands:
                command = command.commands[words[at]]
                at += 1
            path = " ".join(words[1:at])
            named.add(path)
            options = {"--help"} | {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
            if command is root:
                options |= {"--install-completion", "--show-completion", "--version"}
            unknown = [w for w in words[at:] if w.startswith("-") and w not in options]
            assert not unknown, f"the README gives `{usage}` options that kaipai {path} does not have: {unknown}"
    leaves: set[str] = set()

    def walk(command: object, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if not children or getattr(command, "invoke_without_command", False):
            leaves.add(prefix)
        for name, child in (children or {}).items():
            walk(child, f"{prefix} {name}".strip())

    walk(root, "")
    leaves.discard("")
    assert leaves <= named, f"commands the README does not name: {sorted(leaves - named)}"
