"""Content model -> one semantic HTML document per brief and language.

One sandboxed Jinja environment renders every template with autoescape on and
StrictUndefined. Presentation shared by both writers lives here, once: a Text
prints in the edition's language, a date in its CLDR form, prose as CommonMark
(raw HTML off). Templates never need Python to do any of that.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markupsafe import Markup

from briefing.dates import PartialDate, Period
from briefing.errors import BuildFailed, Problem
from briefing.model import Brief, Project
from briefing.render.figures import WIDTH, Moment, data_url, timeline_svg
from briefing.text import Prose, Text

TEMPLATES = "templates"

# CommonMark without raw HTML, headings, images or code: prose is running text
# inside a section the template already titles. Links must be https.
_PROSE = MarkdownIt("commonmark", {"html": False}).disable([
    "heading", "lheading", "image", "code", "fence", "backticks", "hr",
    "html_block", "html_inline",
])
_PROSE.validateLink = lambda url: url.startswith("https://")  # type: ignore[method-assign]


@dataclass(frozen=True)
class Edition:
    """One brief in one language: the unit every writer produces a file for.

    `fallback` is the language shown, visibly marked, where a translation is
    missing (only with --allow-fallback); such an edition is a draft.
    """

    brief: Brief
    language: str
    fallback: str | None = None
    kind: str = "report"

    @property
    def draft(self) -> bool:
        return self.fallback is not None

    @property
    def template(self) -> str:
        """Each kind of document is one template: `report.html.j2`, `note.html.j2`."""
        return f"{self.kind}.html.j2"

    @property
    def name(self) -> str:
        """`<date>_<slug>_<lang>` for the report, `<date>_<slug>_<kind>_<lang>` otherwise."""
        kind = "" if self.kind == "report" else f"_{self.kind}"
        return f"{self.brief.date.iso()}_{self.brief.slug}{kind}_{self.language}"


def environment(root: Path) -> jinja2.Environment:
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(root / TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["text"] = _text
    env.globals["timeline"] = _timeline
    return env


def render_html(env: jinja2.Environment, project: Project, edition: Edition) -> str:
    """Render the edition's HTML; template mistakes become placed Problems."""
    catalog = project.catalogs[edition.language]
    context = {
        "brief": edition.brief,
        "lang": edition.language,
        "lang_tag": catalog.tag,
        "fallback": edition.fallback,
        "draft": edition.draft,
        "kind": edition.kind,
        "locale": catalog.locale,
        "labels": catalog.labels,
        "publisher": project.publisher,
        "partners": project.partners,
    }
    try:
        html = env.get_template(edition.template).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise BuildFailed([_syntax_problem(err)]) from None
    except jinja2.TemplateError as err:
        raise BuildFailed([_placed(err, edition)]) from None
    problems = _unlabelled(html, edition)
    if problems:
        raise BuildFailed(problems)
    return html


def _unlabelled(html: str, edition: Edition) -> list[Problem]:
    """Every figure and data table has a caption, every image a text alternative."""
    import lxml.html

    tree = lxml.html.document_fromstring(html)
    found = []
    for figure in tree.iter("figure"):
        if figure.find("figcaption") is None:
            found.append("a <figure> has no <figcaption>")
    for table in tree.iter("table"):
        if "data" in table.classes and table.find("caption") is None:
            found.append('a <table class="data"> has no <caption>')
    for img in tree.iter("img"):
        if img.get("alt") is None:
            found.append(f"<img src={img.get('src', '')[:40]!r}> has no alt text")
    where = f"{TEMPLATES}/{edition.template}"
    return [Problem(where, 1, 1, f"{message} (while rendering {edition.name})",
                    expected="a caption for every figure and table, alt text for every image")
            for message in dict.fromkeys(found)]


def html_bytes(html: str, edition: Edition, root: Path) -> bytes:
    """The HTML as a file of its own (`--format html`): what both writers read."""
    return html.encode("utf-8")


def check_templates(env: jinja2.Environment) -> list[Problem]:
    """Compile every template without rendering, for `build.py check`."""
    problems = []
    for name in env.list_templates(extensions=["j2"]):
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as err:
            problems.append(_syntax_problem(err))
    return problems


def _syntax_problem(err: jinja2.TemplateSyntaxError) -> Problem:
    return Problem(_template_path(err.filename or err.name or "?"), err.lineno, 1,
                   err.message or "syntax error", expected="valid Jinja")


@jinja2.pass_context
def _finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    """How a value prints in `{{ ... }}`: in the edition's language and locale."""
    if isinstance(value, Text):
        return _shown(value, context["lang"], context["fallback"])
    if isinstance(value, (PartialDate, Period)):
        return value.format(context["locale"])
    if value is None:
        raise jinja2.UndefinedError("a template printed an empty value; guard it with {% if %}")
    return value


@jinja2.pass_context
def _text(context: jinja2.runtime.Context, value: Text) -> str:
    """`{{ x|text|upper }}`: a Text as a plain string, for use in expressions."""
    if value.in_language(context["lang"]) is None and context["fallback"]:
        return _in_language(value, context["fallback"])
    return _in_language(value, context["lang"])


def _shown(value: Text, language: str, fallback: str | None) -> Markup | str:
    """A text field as printed: prose as HTML; a fallback visibly marked as one."""
    text = value.in_language(language)
    if text is None and fallback is not None:
        text = _in_language(value, fallback)
        if isinstance(value, Prose):
            return Markup('<div class="fallback" lang="{}">{}</div>').format(
                fallback, Markup(_PROSE.render(text)))
        return Markup('<span class="fallback" lang="{}">{}</span>').format(fallback, text)
    text = _in_language(value, language)
    return Markup(_PROSE.render(text)) if isinstance(value, Prose) else text


@jinja2.pass_context
def _timeline(context: jinja2.runtime.Context, ids: tuple[str, ...]) -> dict[str, object]:
    """`timeline(section.timeline)`: the partners' offices, agreements and
    milestones as one SVG figure, for `<img src=... width=...>`."""
    labels, locale = context["labels"], context["locale"]

    def say(value: Text) -> str:
        return _text(context, value)

    moments = []
    for partner in (context["partners"][i] for i in ids):
        for office in partner.offices:
            place = say(office.place) + (f" ({say(office.region)})" if office.region else "")
            moments.append(Moment(office.opened, office.opened.format(locale),
                                  f"{say(partner.label)}: {labels['timeline_office']} {place}"))
        for agreement in partner.agreements:
            title = say(agreement.title)
            moments.append(Moment(agreement.signed, agreement.signed.format(locale),
                                  f"{title}: {labels['timeline_signed']}"))
            if agreement.ratified:
                how = (f"{labels['timeline_ratified_by']} {say(agreement.ratified_by)}"
                       if agreement.ratified_by else labels["timeline_ratified"])
                moments.append(Moment(agreement.ratified, agreement.ratified.format(locale),
                                      f"{title}: {how}"))
        for milestone in partner.milestones:
            moments.append(Moment(milestone.date, milestone.date.format(locale),
                                  say(milestone.text)))
    return {"src": data_url(timeline_svg(moments)), "width": WIDTH}


def _in_language(value: Text, language: str) -> str:
    text = value.in_language(language)
    if text is None:  # the loader reports missing translations before rendering
        raise jinja2.UndefinedError(f"no '{language}' text for {value!r}")
    return text


def _placed(err: jinja2.TemplateError, edition: Edition) -> Problem:
    """Find the template line from Jinja's rewritten traceback frames."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(".j2")]
    where = frames[-1] if frames else None
    message = f"{err.message or type(err).__name__} (while rendering {edition.name})"
    if where is None:
        return Problem(f"{TEMPLATES}/{edition.template}", 1, 1, message)
    return Problem(_template_path(where.filename), where.lineno or 1, 1, message)


def _template_path(filename: str) -> str:
    path = Path(filename)
    parts = path.parts
    if TEMPLATES in parts:
        return "/".join(parts[parts.index(TEMPLATES):])
    return filename
