#!/usr/bin/env python3
"""Benchmarks: every number a ratio against a baseline measured in the same run.

    .venv/bin/python benchmarks/run.py            # the full set (a few minutes)
    .venv/bin/python benchmarks/run.py --quick    # smaller corpus, fewer repeats

Prints medians. docs/performance.md records a run and its targets.
"""

from __future__ import annotations

import argparse
import gc
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from briefing.files import ProjectFiles
from briefing.writers.registry import Request

REPO = Path(__file__).resolve().parent.parent

AZ = ["miqrasiya", "xidmət", "əməkdaşlıq", "dövlət", "beynəlxalq", "təşkilat", "razılaşma",
      "tədbir", "iclas", "qanunvericilik", "sərhəd", "təhlükəsizlik", "vətəndaş", "hüquq",
      "qəbul", "layihə", "məlumat", "inkişaf", "regional", "mərkəz", "şöbə", "müqavilə"]
RU = ["миграция", "служба", "сотрудничество", "государство", "международный", "организация",
      "соглашение", "мероприятие", "заседание", "законодательство", "граница", "безопасность",
      "гражданин", "право", "приём", "проект", "информация", "развитие", "региональный", "отчёт"]


def sentence(rng: random.Random, vocabulary: list[str], count: int) -> str:
    text = " ".join(rng.choice(vocabulary) for _ in range(count))
    return text[0].upper() + text[1:] + "."


def both(rng: random.Random, count: int, paragraphs: int = 1) -> dict[str, str]:
    """One text field in Azerbaijani and Russian."""
    return {language: "\n\n".join(sentence(rng, words, count) for _ in range(paragraphs))
            for language, words in (("az", AZ), ("ru", RU))}


def brief(index: int, rows: int) -> dict[str, object]:
    """About ten pages in each language: six prose sections and a `rows`-row table."""
    rng = random.Random(index)
    sections: list[dict[str, object]] = [
        {"id": f"s{number}", "title": both(rng, 3), "body": both(rng, 60, paragraphs=4)}
        for number in range(6)]
    sections.append({"id": "table", "title": both(rng, 2), "trainings": [
        {"title": both(rng, 6), "where": both(rng, 1), "when": str(2000 + row % 20),
         "organiser": "org"} for row in range(rows)]})
    return {"title": both(rng, 4), "date": f"2024-{1 + index % 12:02d}-{1 + index % 28:02d}",
            "reference": f"B-{index}",
            "marking": {"az": "XİDMƏTİ İSTİFADƏ ÜÇÜN", "ru": "ДЛЯ СЛУЖЕБНОГО ПОЛЬЗОВАНИЯ"},
            "languages": ["az", "ru"], "department": both(rng, 3), "sections": sections}


def corpus(folder: Path, briefs: int, rows: int) -> Path:
    shutil.copytree(REPO / "templates", folder / "templates")
    shutil.copytree(REPO / "fonts", folder / "fonts")
    (folder / "content" / "briefs").mkdir(parents=True)
    (folder / "content" / "partners").mkdir()
    (folder / "content" / "publisher.yaml").write_text(
        "name:\n  az: Dövlət Miqrasiya Xidməti\n  ru: Государственная миграционная служба\n"
        "short_name: DMX\n", encoding="utf-8")
    (folder / "content" / "partners" / "org.yaml").write_text(
        "name: IOM\nkind: international-organisation\n", encoding="utf-8")
    for index in range(briefs):
        (folder / "content" / "briefs" / f"brief-{index:03d}.yaml").write_text(
            yaml.safe_dump(brief(index, rows), allow_unicode=True, sort_keys=False),
            encoding="utf-8")
    return folder


def paired(ours: Callable[[], object], baseline: Callable[[], object], repeats: int
           ) -> tuple[float, float]:
    """Medians of both, run in pairs whose order is drawn at random for each pair,
    so that neither side always gets the warmer caches or the cooler machine."""
    order = random.Random(repeats)
    times: dict[int, list[float]] = {0: [], 1: []}
    actions = {0: ours, 1: baseline}
    for side in order.sample((0, 1), 2):  # untimed: the first call of either loads fonts
        actions[side]()
    for _ in range(repeats):
        for side in order.sample((0, 1), 2):
            times[side].append(median_time(actions[side], 1))
    return statistics.median(times[0]), statistics.median(times[1])


def median_time(action: Callable[[], object], repeats: int) -> float:
    """Median wall time; as timeit does, the garbage collector is paused while
    timing, so that collections of the benchmark's own objects land on neither side."""
    times = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
        finally:
            gc.enable()
    return statistics.median(times)


def cli(project: Path, *args: str) -> None:
    quiet = [] if "check" in args else ["-q"]
    done = subprocess.run([sys.executable, str(REPO / "build.py"), "-C", str(project), *args,
                           *quiet], capture_output=True, text=True)
    if done.returncode != 0 and "check" not in args:
        raise SystemExit(f"build failed:\n{done.stderr}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="a smaller, faster run")
    args = options.parse_args()
    repeats = 3 if args.quick else 5
    rows, batch, many = (150, 6, 20) if args.quick else (150, 20, 100)
    rows_out = []

    def row(what: str, ours: float, baseline: float, target: str) -> None:
        rows_out.append((what, ours, baseline, ours / baseline if baseline else float("nan"),
                         target))
        print(f"{what:<44} {ours:8.3f} s {baseline:8.3f} s  {ours / baseline:6.2f}x  {target}",
              flush=True)

    print(f"{'measure (median of ' + str(repeats) + ')':<44} {'ours':>10} {'baseline':>10}  "
          f"{'ratio':>6}  target")
    with tempfile.TemporaryDirectory() as temp:
        project = corpus(Path(temp) / "corpus", many, rows)
        import io

        import pikepdf
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration

        from briefing.writers.conformance import conformance_problems
        from briefing.writers.docx import write_docx
        from briefing.writers.pdf import _write as untagged
        from briefing.writers.pdf import write_pdf

        sample = Path(temp) / "sample"
        shutil.copytree(REPO / "content", sample / "content")
        shutil.copytree(REPO / "templates", sample / "templates")
        shutil.copytree(REPO / "fonts", sample / "fonts")
        for where, slug, language in ((project, "brief-000", "az"),
                                      (sample, "international-cooperation", "en")):
            request = edition_request(where, slug, language)
            templates = (where / "templates").resolve()

            def bare(html: str = request.html, templates: Path = templates,
                     tagged: bool = True) -> bytes:
                """WeasyPrint alone on the same HTML, tagged as PDF/UA-1 like ours
                (its own structure tree, no gate): what our writer adds to it."""
                fonts = FontConfiguration()
                css = CSS(filename=str(templates / "print.css"), font_config=fonts)
                options = {"pdf_variant": "pdf/ua-1"} if tagged else {}
                return HTML(string=html, base_url=templates.as_uri() + "/").write_pdf(
                    stylesheets=[css], font_config=fonts, **options)

            pages = len(pikepdf.open(io.BytesIO(bare(tagged=False))).pages)
            print(f"({slug} {language}: {pages} pages, {len(request.html) // 1024} KiB of HTML)",
                  flush=True)
            # Timings here wander by 10-20 % between calls; more pairs steady the median.
            row(f"PDF of {slug}: ours vs bare WeasyPrint",
                *paired(lambda request=request: write_pdf(request), bare, repeats * 2 + 1),
                "<= 1.10x")
            # Tagging: the PDF/UA-1 with its structure tree and the gate, against the same
            # writer untagged (what write_pdf wrote before tagging), on the same HTML.
            row(f"PDF of {slug}: tagged + gate vs untagged",
                *paired(lambda request=request: write_pdf(request),
                        lambda request=request: untagged(request, {"custom_metadata": True}),
                        repeats * 2 + 1), "<= 1.15x")
            data = write_pdf(request)
            gate = median_time(lambda data=data: conformance_problems(data), repeats * 2 + 1)
            print(f"{'  of which the accessibility gate':<44} {gate:8.3f} s", flush=True)
        request = edition_request(project, "brief-000", "az")
        html = request.html
        pandoc = shutil.which("pandoc")
        if pandoc:
            source = Path(temp) / "brief.html"
            source.write_text(html, encoding="utf-8")
            row("DOCX: our writer vs pandoc html->docx", *paired(
                lambda: write_docx(request),
                lambda: subprocess.run([pandoc, str(source), "-o", str(Path(temp) / "p.docx")],
                                       check=True, capture_output=True), repeats * 2 + 1), "< 1x")
        else:
            docx_time = median_time(lambda: write_docx(request), repeats)
            print(f"{'DOCX: our writer (pandoc not installed)':<44} {docx_time:8.3f} s")

        first = [f"brief-{i:03d}" for i in range(batch)]
        serial = median_time(lambda: cli(project, "build", *first, "-j", "1", "--force"), 1)
        parallel = median_time(lambda: cli(project, "build", *first, "-j", "2", "--force"), 1)
        row(f"{batch}-brief batch: -j 1 time / -j 2 time", serial, parallel, ">= 1.8x")

        cli(project, "build", "-j", "2")  # everything, so the no-op below has nothing to do
        noop = median_time(lambda: cli(project, "build"), repeats)
        startup = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"]), repeats)
        row(f"no-op rebuild of {many} briefs vs bare python", noop, startup, "< 0.5 s")
        check = median_time(lambda: cli(project, "check"), repeats)
        row(f"check of {many} briefs, cold, vs bare python", check, startup, "< 1 s (sample)")
        row("check of the sample content, cold, vs python",
            median_time(lambda: cli(sample, "check"), repeats), startup, "< 1 s")
        long_words(Path(temp) / "long", repeats, row)
        memory(project, many)


def edition_request(project: Path, slug: str, language: str) -> Request:
    """One edition's HTML, as the build's workers render it, ready for a writer."""
    from briefing.content.load import load_project
    from briefing.render.edition import editions
    from briefing.render.html import environment, render_html
    from briefing.render.view import build_view

    loaded = load_project(project)
    edition = editions(loaded, loaded.brief(slug), [language])[0]
    html = render_html(environment(ProjectFiles(project)), build_view(loaded, edition), edition)
    return Request(html, edition, ProjectFiles(project))


def long_word_brief(length: int) -> dict[str, object]:
    """A short English brief (English words are hyphenated) with one unbroken
    word of `length` characters in every place a long word can stand: a
    section title (and so the contents), a paragraph, a table cell, a key
    fact, a source's title and address."""
    word = ("migrationcooperation" * (length // 20 + 1))[:length]
    return {"title": "A long word", "date": "2024-05-06", "reference": f"L-{length}",
            "marking": "FOR OFFICIAL USE", "languages": ["en"], "department": "Department",
            "key_facts": [{"value": word, "label": "the word"}],
            "sections": [{"id": "long", "title": word, "body": f"The word {word} is long.",
                          "trainings": [{"title": word, "where": "Baku"}]}],
            "sources": [{"id": "web", "title": word, "url": f"https://example.org/{word}"}]}


def long_words(folder: Path, repeats: int, row: Callable[..., None]) -> None:
    """Layout time of a word 10 times longer: 10 times the time at most, not 100."""
    from briefing.writers.docx import write_docx
    from briefing.writers.pdf import write_pdf

    corpus(folder, 0, 0)
    (folder / "content" / "publisher.yaml").write_text(
        "name: State Migration Service\nshort_name: SMS\n", encoding="utf-8")
    for length in (1_000, 10_000):
        (folder / "content" / "briefs" / f"word-{length}.yaml").write_text(
            yaml.safe_dump(long_word_brief(length), allow_unicode=True, sort_keys=False),
            encoding="utf-8")

    def both(length: int) -> None:
        request = edition_request(folder, f"word-{length}", "en")
        write_pdf(request)
        write_docx(request)

    row("brief with a 10,000- vs a 1,000-char word", *paired(
        lambda: both(10_000), lambda: both(1_000), repeats), "<= 10x (linear)")


def memory(project: Path, briefs: int) -> None:
    """Resident memory of one process rendering every brief in turn: flat, not growing."""
    from briefing.writers.docx import write_docx
    from briefing.writers.pdf import write_pdf

    samples = []
    for index in range(briefs):
        request = edition_request(project, f"brief-{index:03d}", "ru")
        write_pdf(request)
        write_docx(request)
        samples.append(_rss_mib())
    tenth = max(1, len(samples) // 10)
    early = statistics.median(samples[tenth:2 * tenth])
    late = statistics.median(samples[-tenth:])
    print(f"{'memory: RSS after last 10% vs after 10-20%':<44} {late:8.1f} M {early:8.1f} M  "
          f"{late / early:6.2f}x  flat (<= 1.10x)")


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


if __name__ == "__main__":
    main()
