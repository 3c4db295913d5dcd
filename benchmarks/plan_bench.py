"""How long the offline planner takes on a feature-length script.

Builds a ~120-page Fountain script by concatenating the sample screenplays (repeating them
as needed; a page is 55 printed lines), then times parsing, importing (screenplay →
document), planning every shot, and re-planning with a tenth of the shots locked. Prints
one readable line, then the figures as one line of JSON. Exits 1 when parse + import +
plan takes longer than the budget (2 s by default).

    python benchmarks/plan_bench.py [--pages 120] [--repeat 3] [--budget 2.0]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

from kaipai.planning.importer import document_from_screenplay
from kaipai.planning.rules import plan_document

REPO = Path(__file__).resolve().parents[1]
SOURCES = [REPO / "tests" / "fixtures" / "screenplays", Path("/work/shared/screenplays")]
#: A screenplay page holds about 55 lines of Courier 12; action wraps at about 60 characters.
LINES_PER_PAGE = 55
WRAP = 60


def samples() -> list[Path]:
    for folder in SOURCES:
        found = sorted(folder.glob("*.fountain"))
        # the two full scripts first; the syntax samples are fragments
        full = [p for p in found if not p.name.startswith("syntax-")]
        if full:
            return full
    raise SystemExit("no sample screenplays found in " + " or ".join(str(s) for s in SOURCES))


def body(text: str) -> str:
    """The script without its title page (key: value lines up to the first blank line)."""
    lines = text.splitlines()
    if lines and re.match(r"^[A-Za-z ]+:", lines[0]):
        end = next((i for i, ln in enumerate(lines) if not ln.strip()), len(lines))
        lines = lines[end:]
    return "\n".join(lines)


def page_lines(text: str) -> int:
    """Lines the text fills on a printed page: long paragraphs wrap, blank lines count."""
    return sum(max(1, -(-len(line.strip()) // WRAP)) for line in text.splitlines())


def build_script(pages: int) -> tuple[str, int]:
    """Sample bodies one after another (repeated if needed) until the script fills ``pages`` pages."""
    texts = [body(p.read_text(encoding="utf-8")) for p in samples()]
    parts = ["Title: Benchmark Feature\nAuthor: kaipai\n"]
    filled, target, k = 0, pages * LINES_PER_PAGE, 0
    while filled < target:
        paragraphs = texts[k % len(texts)].split("\n\n")
        for para in paragraphs:
            parts.append(para)
            filled += page_lines(para) + 1
            if filled >= target and para.strip() and not para.lstrip().startswith(("INT", "EXT")):
                break
        k += 1
    return "\n\n".join(parts), filled


def timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=3, help="runs per stage; the best is reported")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds parse + import + plan may take")
    args = ap.parse_args()
    from kaipai.screenplay import parse_text

    text, lines = build_script(args.pages)
    parse_s, sp = timed(lambda: parse_text(text, filename="benchmark.fountain"), args.repeat)
    import_s, doc = timed(lambda: document_from_screenplay(sp), args.repeat)
    plan_s, result = timed(lambda: plan_document(doc), args.repeat)
    planned = result.document
    for shot in planned.shots[::10]:
        shot.locked = True
    replan_s, again = timed(lambda: plan_document(planned), args.repeat)

    n_lines = sum(len(s.dialogue) for s in planned.shots)
    pages = round(lines / LINES_PER_PAGE)
    total = parse_s + import_s + plan_s
    verdict = "OK" if total <= args.budget else "TOO SLOW"
    print(
        f"plan benchmark: {pages} pages ({lines} lines), {len(planned.scenes)} scenes, {len(planned.shots)} shots — "
        f"parse + import + plan {total:.2f} s (budget {args.budget:g} s: {verdict}); "
        f"re-plan with {len(again.kept_locked)} locked shots {replan_s:.2f} s"
    )
    print(
        json.dumps(
            {
                "benchmark": "plan",
                "pages": pages,
                "printed_lines": lines,
                "scenes": len(planned.scenes),
                "characters": len(planned.cast.characters),
                "dialogue_lines": n_lines,
                "shots": len(planned.shots),
                "parse_s": round(parse_s, 3),
                "import_s": round(import_s, 3),
                "plan_s": round(plan_s, 3),
                "import_plus_plan_s": round(import_s + plan_s, 3),
                "total_s": round(total, 3),
                "budget_s": args.budget,
                "replan_locked_s": round(replan_s, 3),
                "kept_locked": len(again.kept_locked),
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            ensure_ascii=False,
        )
    )
    return 0 if total <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
