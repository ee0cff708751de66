#!/usr/bin/env python3
"""Checks that the documentation stays navigable (make test runs it):

  - README.md is at most README_LIMIT bytes: it is the front page (what sparkvit is, the two commands, the
    command and layout tables, links); everything else goes to a docs/ page by topic.
  - every Markdown link from README.md or docs/*.md to a local file leads to one that exists, and its #anchor to a
    heading of that file (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens);
  - every quoted section reference in the repository's text files, `docs/PAGE.md, "Heading"` or
    `README, "Heading"` (also with "section" or "sections" before the quote), names a heading of that page, or an
    emphasised label opening one of its paragraphs (the quote is the heading or the start of it);
  - every test a page names (`NameTest`, `NameTest.method`, `NameTest#prefix*`, `NameTest.prefix…`) exists, so
    the tests cited as proof are real;
  - the demo's summary lines quoted in README.md and docs/RESULTS.md (`sparkvit demo: ...`, the probe and
    accuracy lines, `HTML report: ...`) have the shape `cli/DemoCommand.java` prints, so the quoted output stays
    true to the program.

  tools/docs-check.py          check; exit 1 with one line per problem
"""
import os
import re
import sys

README_LIMIT = 10 * 1024
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
TEXT_SUFFIXES = (".md", ".java", ".sh", ".py", ".yaml", ".yml", ".properties", ".xml", ".txt")
SKIP_DIRS = {".git", "target", "node_modules", "out", ".venv", "venv"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
LABEL = re.compile(r"^\s*(?:[-*]\s+)?(\*\*|\*)([^*]+?)\1")
SECTION_REF = re.compile(r'\b((?:docs/)?[A-Z][A-Z0-9-]*\.md|README)(?:,| section| sections)\s*"([^"\n]+)"')


def headings(path, labels=False):
    """The headings of a Markdown page; with labels, also the emphasised labels that open a paragraph or list item
    (`- *Registry on HDFS* (...)`, `**Large GIFs.**`), which section references may name too."""
    found = []
    fence = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                fence = not fence
            elif not fence:
                m = HEADING.match(line)
                if m:
                    found.append(m.group(1))
                elif labels:
                    m = LABEL.match(line)
                    if m:
                        found.append(m.group(2).strip().rstrip(".:"))
    return found


def anchor(heading):
    text = re.sub(r"`|\*|_(?=\W)|(?<=\W)_", "", heading).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


DEMO_COMMAND = os.path.join("spark-jobs", "src", "main", "java", "dev", "sparkvit", "cli", "DemoCommand.java")
DEMO_LINE = re.compile(r"^(sparkvit demo: |  linear-probe val accuracy|HTML report: |  \S.* accuracy [0-9.]+  macro-F1 )")


def demo_formats():
    """The demo's summary lines as regular expressions, from DemoCommand's string literals: a literal followed by
    `+` is a prefix; printf conversions match numbers and padded names."""
    with open(os.path.join(ROOT, DEMO_COMMAND), encoding="utf-8") as f:
        java = f.read()
    formats = []
    for literal, concatenated in re.findall(r'"((?:[^"\\]|\\.)*)"(\s*\+)?', java):
        if not DEMO_LINE.match(literal.replace("%-22s ", "x ").replace("%.3f", "0.5")):
            continue
        pattern = re.escape(literal.replace("%n", ""))
        pattern = pattern.replace(re.escape("%.3f"), r"-?[0-9]+\.[0-9]{3}").replace(re.escape("%d"), r"[0-9]+")
        pattern = pattern.replace(re.escape("%-22s"), r".{22}")
        formats.append(re.compile("^" + pattern + ("" if concatenated else "$")))
    return formats


def demo_output_problems():
    formats = demo_formats()
    if not formats:
        return [f"{DEMO_COMMAND}: no demo summary format found (the check needs updating with the command)"]
    problems = []
    for rel in ("README.md", os.path.join("docs", "RESULTS.md")):
        quoted = 0
        fence = False
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            for number, line in enumerate(f.read().splitlines(), 1):
                if line.startswith("```"):
                    fence = not fence
                elif fence and DEMO_LINE.match(line):
                    quoted += 1
                    if not any(p.match(line) for p in formats):
                        problems.append(f"{rel}:{number}: demo output not printed by {DEMO_COMMAND}: {line.strip()}")
        if quoted == 0:
            problems.append(f"{rel}: quotes no demo summary line")
    return problems


TEST_CLASS = re.compile(r"\b([A-Z][A-Za-z0-9]*Test)\b(?:[.#]([a-z][A-Za-z0-9]*)(…|\*)?)?")


def test_reference_problems(pages):
    sources = {}
    for base, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if name.endswith("Test.java"):
                with open(os.path.join(base, name), encoding="utf-8") as f:
                    sources[name[:-5]] = sources.get(name[:-5], "") + f.read()
    problems = []
    for page in pages:
        rel = os.path.relpath(page, ROOT)
        with open(page, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for cls, method, truncated in TEST_CLASS.findall(line):
                    if cls not in sources:
                        problems.append(f"{rel}:{number}: names test {cls}, which does not exist")
                    elif method and not re.search(r"\bvoid " + method + ("" if truncated else r"\("), sources[cls]):
                        problems.append(f"{rel}:{number}: names {cls}.{method}{truncated}, which {cls} has not")
    return problems


def text_files():
    for base, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if name.endswith(TEXT_SUFFIXES) or name in ("Makefile", "run", "sparkvit"):
                yield os.path.join(base, name)


def page_of(reference, source):
    """The file a section reference names: README is README.md; X.md is docs/X.md unless beside the source."""
    if reference == "README":
        return os.path.join(ROOT, "README.md")
    if reference.startswith("docs/"):
        return os.path.join(ROOT, reference)
    beside = os.path.join(os.path.dirname(source), reference)
    return beside if os.path.exists(beside) else os.path.join(ROOT, "docs", reference)


def main():
    problems = []
    readme = os.path.join(ROOT, "README.md")
    size = os.path.getsize(readme)
    if size > README_LIMIT:
        problems.append(f"README.md: {size} bytes, above the limit of {README_LIMIT}: move text to a docs/ page")

    pages = [readme] + sorted(os.path.join(ROOT, "docs", n) for n in os.listdir(os.path.join(ROOT, "docs"))
                              if n.endswith(".md"))
    for page in pages:
        rel = os.path.relpath(page, ROOT)
        with open(page, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for target in LINK.findall(line):
                    if re.match(r"[a-z]+:", target):
                        continue
                    path, _, fragment = target.partition("#")
                    full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                    if not os.path.exists(full):
                        problems.append(f"{rel}:{number}: link to {target}: no file {os.path.relpath(full, ROOT)}")
                    elif fragment and full.endswith(".md") and fragment not in {anchor(h) for h in headings(full)}:
                        problems.append(f"{rel}:{number}: link to {target}: no heading with anchor #{fragment}")

    for source in text_files():
        rel = os.path.relpath(source, ROOT)
        if rel == os.path.join("tools", "docs-check.py"):
            continue
        try:
            with open(source, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(lines, 1):
            for reference, quote in SECTION_REF.findall(line):
                page = page_of(reference, source)
                if not os.path.exists(page):
                    problems.append(f"{rel}:{number}: section reference to {reference}: no such page")
                    continue
                if not any(h.startswith(quote) or h.strip("`") == quote for h in headings(page, labels=True)):
                    problems.append(f'{rel}:{number}: {reference} has no heading "{quote}"')

    problems.extend(test_reference_problems(pages))
    problems.extend(demo_output_problems())
    for problem in problems:
        print("docs-check: " + problem, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"docs-check: README.md {size} bytes (limit {README_LIMIT}), links, section references, tests named and demo output hold")


if __name__ == "__main__":
    main()
