"""An edition's view -> one semantic HTML document, through Jinja.

One sandboxed Jinja environment renders every template with autoescape on and
StrictUndefined, from templates read only inside the project. Templates get
the view (render/view.py): plain strings, formatted dates, anchors handed out
once; printing a whole record or a list is a placed template error, never a
Python repr in a document. The environment also holds the project's theme
(templates/theme.yaml), and draws the view's figures with it as templates
read them, so a figure is a plain data: URL by the time any filter sees it.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from briefing.errors import BuildFailed, Problem
from briefing.files import MAX_ASSET_BYTES, TEMPLATES, ProjectFiles, Unreadable, read_confined
from briefing.render.edition import Edition
from briefing.render.fields import Field, FieldMarkup, mark, settle
from briefing.render.figures import Figure
from briefing.render.layout import adapt, measuring, project_metrics
from briefing.render.theme import Theme, read_theme
from briefing.render.view import Fallback, Node, plain


class ProjectLoader(jinja2.BaseLoader):
    """Templates from templates/ only: no symlink out of the project, no device."""

    def __init__(self, files: ProjectFiles) -> None:
        self.files = files
        self.folder = files.path(TEMPLATES)

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*jinja2.loaders.split_template_path(template))
        if not path.exists() and not path.is_symlink():
            raise jinja2.TemplateNotFound(template)
        data = read_confined(path, [self.folder], MAX_ASSET_BYTES)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Unreadable(path, "is not UTF-8 text", "a UTF-8 encoded template") from None
        return text, str(path), lambda: True

    def list_templates(self) -> list[str]:
        prefix = f"{TEMPLATES}/"
        return [name.removeprefix(prefix) for name in self.files.templates()
                if name.endswith(".j2")]


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined that names the fields a record does have."""

    @property
    def _undefined_message(self) -> str:
        owner = self._undefined_obj
        if isinstance(owner, Node) and isinstance(self._undefined_name, str):
            return (f"{owner!r} has no field `{self._undefined_name}` (it has: "
                    f"{', '.join(owner.fields())})")
        return super()._undefined_message


# The largest value a template expression may make: far beyond any brief,
# far below what would exhaust the machine.
MAX_MADE_CHARS = 10_000_000
MAX_EXPONENT_BITS = 4_096
_FORMAT_SIZES = re.compile(r"%[-+ #0]*(\d+)?(?:\.(\d+))?")  # `%08000000000d`: widths


def _bounded(pad: Callable[..., str], name: str) -> Callable[..., str]:
    """A padding filter (`center`, `indent`) that refuses to make more than
    MAX_MADE_CHARS characters, as the sandbox's operators do."""
    def filtered(value: Any, *args: Any, **kwargs: Any) -> str:
        sizes = [arg for arg in (*args, *kwargs.values()) if isinstance(arg, int)
                 and not isinstance(arg, bool)]
        if any(size > MAX_MADE_CHARS for size in sizes) or (
                sizes and len(str(value)) * max(sizes) > MAX_MADE_CHARS * 10):
            raise SecurityError(f"`{name}` would make more than {MAX_MADE_CHARS} characters")
        return pad(value, *args, **kwargs)
    return filtered


class ProjectEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with the project's theme: a figure is drawn when read.

    `*`, `**`, `+` and `%` are intercepted, for two reasons. Jinja folds
    constant expressions while compiling (`{{ 'x' * 10**10 }}` would be
    computed in the process that reads the templates, before any limit
    applies), and an intercepted operator is never folded; and at render time
    each result is bounded (as are the padding filters, `center` and
    `indent`), so such a runaway expression is a placed template mistake. What
    no single expression makes (a string doubled in a loop) meets the
    worker's memory limit instead."""

    theme: Theme | None = None
    theme_problems: list[Problem]
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and isinstance(left, int) and (
                abs(right) * max(abs(left), 2).bit_length() > MAX_EXPONENT_BITS):
            raise SecurityError(f"{left} ** {right} is too large a number for a document")
        sequences = (str, list, tuple)
        if operator == "*" and isinstance(left, int) != isinstance(right, int):
            count, part = (left, right) if isinstance(left, int) else (right, left)
            if isinstance(part, sequences) and count * len(part) > MAX_MADE_CHARS:
                raise SecurityError(f"repeating {len(part)} character(s) {count} times "
                                    f"makes more than {MAX_MADE_CHARS} characters")
        if operator == "+" and isinstance(left, sequences) and isinstance(
                right, sequences) and len(left) + len(right) > MAX_MADE_CHARS:
            raise SecurityError(f"joining makes more than {MAX_MADE_CHARS} characters")
        if operator == "%" and isinstance(left, str) and any(
                int(width or 0) > MAX_MADE_CHARS for found in _FORMAT_SIZES.finditer(left)
                for width in found.groups()):
            raise SecurityError(f"a `%` format pads to more than {MAX_MADE_CHARS} characters")
        return super().call_binop(context, operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._drawn(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._drawn(super().getitem(obj, argument))

    def _drawn(self, value: Any) -> Any:
        if isinstance(value, Figure):
            assert self.theme is not None, "render_html stops first when the theme has mistakes"
            return value.draw(self.theme)
        return value


def environment(files: ProjectFiles) -> ProjectEnvironment:
    """The templates' sandbox for one project, with its theme."""
    env = ProjectEnvironment(
        loader=ProjectLoader(files),
        autoescape=True,
        undefined=_Undefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plain"] = plain
    for name in ("center", "indent"):
        env.filters[name] = _bounded(env.filters[name], name)
    env.files = files
    env.theme, env.theme_problems = read_theme(files)
    return env


def render_html(env: ProjectEnvironment, view: dict[str, Any], edition: Edition) -> str:
    """Render the edition's HTML; template and theme mistakes become placed Problems.

    Figures are drawn, and tables given their column widths, with the
    project's fonts (render/layout.py), so that the HTML both writers read
    already says how its content fits the page."""
    if env.theme_problems:
        raise BuildFailed(env.theme_problems)
    measure = project_metrics(env.files)
    try:
        with measuring(measure):
            html = env.get_template(edition.template).render(view)
    except jinja2.TemplateSyntaxError as err:
        raise BuildFailed([syntax_problem(err)]) from None
    except Unreadable as err:
        raise BuildFailed([Problem(env.files.relative(err.path), 1, 1,
                                   f"the template {err.why}", expected=err.expected)]) from None
    except jinja2.TemplateError as err:
        raise BuildFailed([_placed(err, err.message or type(err).__name__, edition)]) from None
    except RecursionError as err:
        raise BuildFailed([_placed(err, "the template calls itself without end", edition)]
                          ) from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as err:
        # An expression in a template failed (`{{ 1 / 0 }}`, a filter given the
        # wrong kind of value): the template's mistake, at its line. Unless it
        # failed inside Briefing's own code (the view, a figure): a bug of
        # ours, which is never blamed on the editor's template.
        if _raised_by_briefing(err):
            raise
        raise BuildFailed([_placed(err, f"{type(err).__name__}: {err}", edition)]) from None
    assert env.theme is not None
    return adapt(settle(html), env.theme, measure)


def check_templates(env: ProjectEnvironment) -> list[Problem]:
    """Compile every template without rendering: syntax errors in templates
    no document uses yet are found too; and the theme's mistakes."""
    problems = list(env.theme_problems)
    for name in env.list_templates():
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as err:
            problems.append(syntax_problem(err))
        except Unreadable as err:
            problems.append(Problem(f"{TEMPLATES}/{name}", 1, 1, f"the template {err.why}",
                                    expected=err.expected))
    return problems


def syntax_problem(err: jinja2.TemplateSyntaxError) -> Problem:
    return Problem(_template_path(err.filename or err.name or "?"), err.lineno, 1,
                   err.message or "syntax error", expected="valid Jinja")


def _finalize(value: Any) -> Any:
    """How a value prints in `{{ ... }}`: text as it is, records and lists refused."""
    if isinstance(value, Fallback):
        return Markup('<span class="fallback" lang="{}">{}</span>').format(value.lang, value)
    if isinstance(value, (Field, FieldMarkup)):
        return mark(value)
    if isinstance(value, (str, int, float, jinja2.Undefined)) and not isinstance(value, bool):
        return value  # printing an Undefined raises StrictUndefined's own error
    if value is None:
        raise jinja2.UndefinedError("a template printed an empty value; guard it with {% if %}")
    if isinstance(value, Node):
        raise jinja2.UndefinedError(
            f"a template printed a whole {value!r} record; print one of its fields "
            f"({', '.join(value.fields())})")
    raise jinja2.UndefinedError(
        f"a template printed a {type(value).__name__}; loop over it or join it "
        "(`|join(\", \")`) instead")


_PACKAGE = Path(__file__).resolve().parent.parent  # src/briefing


def _raised_by_briefing(err: BaseException) -> bool:
    """Whether the innermost frame that raised `err` is Briefing's own code."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE)


def _placed(err: BaseException, message: str, edition: Edition) -> Problem:
    """Find the template line from Jinja's rewritten traceback frames."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.endswith(".j2")]
    where = frames[-1] if frames else None
    message = f"{message} (while rendering {edition.name})"
    if where is None:
        return Problem(f"{TEMPLATES}/{edition.template}", 1, 1, message)
    return Problem(_template_path(where.filename), where.lineno or 1, 1, message)


def _template_path(filename: str) -> str:
    parts = Path(filename).parts
    if TEMPLATES in parts:
        return "/".join(parts[len(parts) - parts[::-1].index(TEMPLATES) - 1:])
    return filename
