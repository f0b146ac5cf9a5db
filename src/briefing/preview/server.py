"""`briefing serve`: the HTML edition in a browser, refreshed on every save.

A Starlette app served by Uvicorn on 127.0.0.1 only. Pages:

- `/` lists the briefs and their editions;
- `/edition/<name>` shows that edition's HTML edition (or its mistakes, as
  the command line prints them), with links to its PDF and DOCX, and a few
  lines of script that reload the page when the server says so;
  `/edition/<name>.html` (an edition's link to its other languages, by file
  name) leads there;
- `/preview/<name>.pdf` is the viewed edition's fresh PDF, and
  `/output/<slug>/<file>` the built PDF and DOCX in output/;
- `/events` is a server-sent event stream: one message per change.

A thread watches content/, templates/ and fonts/; each save re-renders the
edition being viewed first (previews.py) and tells every page; another thread
then builds the affected briefs into output/, the viewed edition first, with
the scheduler `watch` uses (orchestration/scheduler.py), and is stopped by
the next save.

It is a web server on the editor's machine, so any web page the editor opens
may try to reach it (docs/security.md, "The preview server"): only names the
catalogue knows are served, and every value is escaped where it is written;
only requests for this server's own host and port are answered (no DNS
rebinding); every page carries a strict Content-Security-Policy; event
streams and requests in flight are bounded; and one Ctrl-C or SIGTERM stops
it, open pages or not.
"""

from __future__ import annotations

import asyncio
import html
import secrets
import threading
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from briefing.files import OUTPUT, ProjectFiles
from briefing.orchestration.scheduler import Build, Scheduler
from briefing.orchestration.watch import follow
from briefing.orchestration.workers import Limits, modules_for, preload_modules
from briefing.preview.previews import Previews
from briefing.render.edition import slug_of

HOST = "127.0.0.1"
MAX_STREAMS = 32  # open event streams (pages showing an edition)
MAX_REQUESTS = 16  # other requests in flight; each may wait for a render
MAX_CONNECTIONS = 128  # open connections, idle ones included: each holds a file descriptor
SHUTDOWN_SECONDS = 2  # what uvicorn grants connections once the streams are closed
OUTPUT_FORMATS = ("pdf", "docx", "html")  # what /output/ serves of an edition
PREVIEW_FORMATS = ("html", "pdf")  # what a save renders first, in memory
# Pages only: what the preview's own pages and the HTML edition need, and
# nothing else. Scripts run only with this response's nonce (the reload
# script below); styles may be inline, since the HTML edition has a <style>
# and column widths in style attributes, and CSS cannot run script or, with
# everything else 'none' and images data: only, fetch anything.
CSP = ("default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; "
       "img-src data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'none'")
HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
# Each message is `<version> <edition name>`: a page reloads when its own
# edition has a newer rendering than the one it shows. The values come in
# data- attributes (escaped as any attribute is), never inside the script.
RELOAD = """(function (script) {
  var seen = Number(script.dataset.version), name = script.dataset.name;
  var events = new EventSource("/events");
  events.onmessage = function (event) {
    var parts = event.data.split(" ");
    if (parts[1] === name && Number(parts[0]) > seen) { location.reload(); }
  };
})(document.currentScript);"""


class _Listeners:
    """The open event streams, told of each change from the watcher thread,
    and ended all at once when the server stops (else uvicorn would wait for
    them as long as a page stays open)."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: set[asyncio.Queue[str | None]] = set()
        self.closed = False

    def tell(self, version: int, name: str) -> None:
        if self.loop is not None:
            for queue in list(self.queues):
                self.loop.call_soon_threadsafe(queue.put_nowait, f"{version} {name}")

    def close(self) -> None:
        """In the server's loop: every stream ends now, and none opens again."""
        self.closed = True
        for queue in self.queues:
            queue.put_nowait(None)


class _Guard:
    """Before any route, on every request: the `Host` header, the bound on
    requests in flight, and the headers every response carries.

    A page on another site can point a name of its own at 127.0.0.1 (DNS
    rebinding) and then read this server as if it were its own origin; the
    browser still sends that name as `Host`, so only this server's own names,
    with its port, are answered (421 otherwise). Starlette's
    TrustedHostMiddleware ignores the port and cannot read `[::1]:PORT`."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.hosts = {f"{name}:{port}".encode() for name in ("127.0.0.1", "localhost", "[::1]")}
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope["headers"]).get(b"host", b"").lower()
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["nonce"] = nonce
        send = _with_headers(send, nonce)
        if host not in self.hosts:
            await _error(421, "This server answers only http://127.0.0.1, localhost or "
                              "[::1] with its own port.")(scope, receive, send)
        elif scope["path"] == "/events":  # long-lived: bounded on its own (events())
            await self.app(scope, receive, send)
        elif self.in_flight >= MAX_REQUESTS:
            await _busy()(scope, receive, send)
        else:
            self.in_flight += 1
            try:
                await self.app(scope, receive, send)
            finally:
                self.in_flight -= 1


def _with_headers(send: Send, nonce: str) -> Send:
    """`send` adding nosniff and no-referrer to every response, and to each
    page (text/html) the Content-Security-Policy with this request's nonce."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", [])) + HEADERS
            kind = dict(headers).get(b"content-type", b"")
            if kind.startswith(b"text/html"):
                headers.append((b"content-security-policy", CSP.format(nonce=nonce).encode()))
            message["headers"] = headers
        await send(message)

    return sending


def app(root: Path, previews: Previews, listeners: _Listeners, port: int) -> _Guard:
    files = ProjectFiles(root)

    async def index(request: Request) -> Response:
        catalogue = await asyncio.to_thread(previews.catalogue)
        items = []
        for slug, names in catalogue.editions.items():
            mistakes = "\n".join(html.escape(line) for line in catalogue.problems.get(slug, []))
            links = "".join(f'<li><a href="/edition/{_url(n)}">{html.escape(n)}</a></li>'
                            for n in names) or f'<li><pre class="problems">{mistakes}</pre></li>'
            items.append(f"<li><strong>{html.escape(slug)}</strong><ul>{links}</ul></li>")
        return HTMLResponse(_page("Briefing preview", "<h1>Briefing preview</h1><ul>"
                                  + "".join(items) + "</ul>"))

    async def edition(request: Request) -> Response:
        name = await _known(request, "name")
        previews.view(name)
        preview = await asyncio.to_thread(previews.get, name)
        bar = (f'<nav class="preview-bar" aria-label="Preview"><a href="/">All briefs</a> · '
               f'<a href="/preview/{_url(name)}.pdf">PDF (preview)</a> · '
               f'<a href="/output/{_url(slug_of(name))}/{_url(name)}.pdf">PDF</a> · '
               f'<a href="/output/{_url(slug_of(name))}/{_url(name)}.docx">DOCX</a></nav>')
        script = (f'<script nonce="{request.state.nonce}" data-version="{preview.version}" '
                  f'data-name="{html.escape(name)}">{RELOAD}</script>')
        if preview.problems or preview.html is None or preview.unbuilt:
            lines = "\n".join(html.escape(line) for line in [*preview.problems,
                                                             preview.unbuilt] if line)
            body = (f"{bar}<main><h1>Mistakes in {html.escape(name)}</h1>"
                    f'<pre class="problems">{lines}</pre></main>{script}')
            return HTMLResponse(_page(f"Mistakes: {name}", body))
        page = preview.html.decode("utf-8")
        opened = page.index(">", page.index("<body")) + 1  # the bar opens the body
        page = page[:opened] + bar + page[opened:].replace("</body>", f"{script}</body>", 1)
        return HTMLResponse(page)

    async def edition_file(request: Request) -> Response:
        """An HTML edition links to its other languages by file name, as they lie
        side by side in output/ (`…_az.html`): the same edition's preview."""
        name = await _known(request, "name")
        return RedirectResponse(f"/edition/{_url(name)}", status_code=303)

    async def preview_pdf(request: Request) -> Response:
        name = await _known(request, "name")
        preview = await asyncio.to_thread(previews.with_pdf, name)
        if preview.pdf is None or preview.problems:
            raise HTTPException(404, "No PDF: the edition has mistakes (open its page to "
                                     "see them).")
        return Response(preview.pdf, media_type="application/pdf")

    async def output(request: Request) -> Response:
        slug, file = request.path_params["slug"], request.path_params["file"]
        name, _, suffix = file.rpartition(".")
        if suffix not in OUTPUT_FORMATS or slug != slug_of(name) or not await asyncio.to_thread(
                previews.known, name):
            raise HTTPException(404, "No such output.")
        path = files.path(f"{OUTPUT}/{slug}/{file}")  # names from the catalogue only
        if not path.resolve().is_relative_to(files.path(OUTPUT).resolve()) or \
                not path.is_file():
            raise HTTPException(404, "Not built (yet).")
        return FileResponse(path)

    async def events(request: Request) -> Response:
        if listeners.closed or len(listeners.queues) >= MAX_STREAMS:
            return _busy()
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        listeners.loop = asyncio.get_running_loop()
        listeners.queues.add(queue)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while (message := await queue.get()) is not None:
                    yield f"data: {message}\n\n"
            finally:
                listeners.queues.discard(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    async def _known(request: Request, param: str) -> str:
        """The edition a URL names, if the catalogue knows it: anything else is
        a 404 page that does not repeat it."""
        name = request.path_params[param]
        if not await asyncio.to_thread(previews.known, name):
            raise HTTPException(404, "No such edition: open one from the list of briefs.")
        return name

    routes = Starlette(routes=[
        Route("/", index), Route("/edition/{name}.html", edition_file),
        Route("/edition/{name}", edition),
        Route("/preview/{name}.pdf", preview_pdf), Route("/output/{slug}/{file}", output),
        Route("/events", events),
    ], exception_handlers={HTTPException: _http_error, Exception: _bug})
    return _Guard(routes, port)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, exc.detail)


async def _bug(request: Request, exc: Exception) -> Response:
    """A bug of ours: a page in the browser (uvicorn prints the traceback in
    the terminal)."""
    return _error(500, "A bug in Briefing: the terminal running `briefing serve` shows it; "
                       "please report it.")


def _busy() -> Response:
    """503, and the connection closed: only answered streams hold one open."""
    return _error(503, "The preview is busy: try again in a moment.",
                  headers={"Retry-After": "1", "Connection": "close"})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An error as a page: what went wrong, in words, never a traceback."""
    return HTMLResponse(_page("Briefing preview", f'<h1>{status}</h1><p>{html.escape(message)}'
                              '</p><p><a href="/">All briefs</a></p>'), status_code=status,
                        headers=headers)


def serve(root: Path, port: int, limits: Limits, build: Build) -> None:
    """Serve until interrupted (or until the file watcher gives up: then exit 1,
    saying so, rather than serve pages that no longer follow the saves)."""
    preload_modules(modules_for(PREVIEW_FORMATS))  # the preview's workers are forked here
    listeners = _Listeners()
    previews = Previews(root, limits, listeners.tell)
    outputs = previews.outputs = Scheduler(build, previews.built)
    # At most MAX_CONNECTIONS are accepted at a time (backlog), and more are closed.
    config = uvicorn.Config(app(root, previews, listeners, port), host=HOST, port=port,
                            log_level="warning", lifespan="off", http=_Connection,
                            backlog=MAX_CONNECTIONS, timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    server = _Server(config, listeners)
    stop, watching = threading.Event(), threading.Event()
    gave_up: list[str] = []

    def watcher() -> None:
        try:  # an editor's save is one write or one rename: 50 ms gathers it
            for slugs in follow(root, stop, debounce=50, ready=watching.set,
                                again=lambda: _refresh(previews, None)):
                _refresh(previews, slugs)  # then the outputs, in the background
        except SystemExit as failed:  # said why; no page may pass for current now
            gave_up.append(str(failed))
            previews.broken([str(failed)])
            server.should_exit = True
        finally:
            watching.set()

    for target, name in ((watcher, "briefing-watch"), (outputs.run, "briefing-outputs")):
        threading.Thread(target=target, name=name, daemon=True).start()
    watching.wait()  # "serving" is said once a save would be seen
    try:
        server.run()
    finally:
        stop.set()
        outputs.close()
    if gave_up:
        raise SystemExit(gave_up[0])


def _refresh(previews: Previews, slugs: list[str] | None) -> None:
    """Follow a save; a bug of ours on the way is shown, in the terminal and
    on every page, and the next save tries again."""
    try:
        previews.refresh(slugs)
    except Exception:
        traceback.print_exc()
        previews.broken(["a bug in Briefing while following the last save (the terminal "
                         "running `briefing serve` shows it); save again to retry"])


class _Connection(H11Protocol):
    """uvicorn's HTTP/1.1 connection, closed at once beyond MAX_CONNECTIONS.

    Every connection holds a file descriptor, idle or not, and uvicorn
    accepts as many as come: a process out of descriptors can no longer
    accept, answer or even log sensibly (1,100 idle connections wedged the
    server under the usual limit of 1,024, in a flood of tracebacks). So a
    connection beyond the bound is dropped as soon as it is made; with the
    listening backlog at the same bound, one burst cannot overshoot by more.
    The only use of uvicorn's protocol classes: test_a_flood_of_connections
    fails if they change under it."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > MAX_CONNECTIONS:
            transport.abort()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, listeners: _Listeners) -> None:
        super().__init__(config)
        self.listeners = listeners

    async def startup(self, sockets: list[object] | None = None) -> None:
        await super().startup(sockets)
        if self.started:  # listening now: say so, once
            print(f"serving the preview on http://{HOST}:{self.config.port}/ "
                  "(Ctrl-C to stop)", flush=True)

    async def shutdown(self, sockets: list[object] | None = None) -> None:
        """The event streams end first: uvicorn waits for every response to
        finish, and a stream to an open page never would."""
        self.listeners.close()
        await super().shutdown(sockets)


def _url(name: str) -> str:
    """A name as a URL path segment (then escaped as any attribute is)."""
    return html.escape(quote(name, safe=""))


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f'{html.escape(title)}</title><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><style>body{{font-family:sans-serif;max-width:50rem;margin:2rem '
            f'auto;padding:0 1rem}}pre.problems{{white-space:pre-wrap;color:#8b1a1a}}</style>'
            f"</head><body>{body}</body></html>")
