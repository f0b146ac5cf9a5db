"""`briefing serve`: the HTML edition in a browser, refreshed on every save.

A Starlette app served by Uvicorn on 127.0.0.1 only. Pages:

- `/` lists the briefs and their editions;
- `/edition/<name>` shows that edition's HTML edition (or its mistakes, as
  the command line prints them), with links to its PDF and DOCX, and a few
  lines of script that reload the page when the server says so;
- `/preview/<name>.pdf` is the viewed edition's fresh PDF, and
  `/output/<slug>/<file>` the built PDF and DOCX in output/;
- `/events` is a server-sent event stream: one message per change.

A thread watches content/, templates/ and fonts/; each save re-renders the
edition being viewed first (previews.py) and tells every page; another thread
then builds the affected briefs into output/ like `briefing build`, and is
stopped by the next save.
"""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from briefing.files import OUTPUT, ProjectFiles
from briefing.orchestration.watch import affected, changes
from briefing.orchestration.workers import Limits, Stop
from briefing.preview.previews import OutputBuilder, Previews, slug_of

HOST = "127.0.0.1"
# Each message is `<version> <edition name>`: a page reloads when its own
# edition has a newer rendering than the one it shows.
RELOAD = """<script>
(function () {{
  var seen = {version}, name = "{name}";
  var events = new EventSource("/events");
  events.onmessage = function (event) {{
    var parts = event.data.split(" ");
    if (parts[1] === name && Number(parts[0]) > seen) {{ location.reload(); }}
  }};
}})();
</script>"""


class _Listeners:
    """The open event streams, told of each change from the watcher thread."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: set[asyncio.Queue[str]] = set()

    def tell(self, version: int, name: str) -> None:
        if self.loop is not None:
            for queue in list(self.queues):
                self.loop.call_soon_threadsafe(queue.put_nowait, f"{version} {name}")


def app(root: Path, previews: Previews, listeners: _Listeners) -> Starlette:
    files = ProjectFiles(root)

    async def index(request: Request) -> Response:
        catalogue = await asyncio.to_thread(previews.catalogue)
        items = []
        for slug, names in catalogue.items():
            links = "".join(f'<li><a href="/edition/{html.escape(n)}">{html.escape(n)}</a></li>'
                            for n in names) or "<li>(this brief has mistakes: open it to see "\
                                                "them)</li>"
            items.append(f"<li><strong>{html.escape(slug)}</strong><ul>{links}</ul></li>")
        return HTMLResponse(_page("Briefing preview", "<h1>Briefing preview</h1><ul>"
                                  + "".join(items) + "</ul>"))

    async def edition(request: Request) -> Response:
        name = request.path_params["name"]
        previews.view(name)
        preview = await asyncio.to_thread(previews.get, name)
        slug = slug_of(name)
        bar = (f'<nav class="preview-bar" aria-label="Preview"><a href="/">All briefs</a> · '
               f'<a href="/preview/{html.escape(name)}.pdf">PDF (preview)</a> · '
               f'<a href="/output/{slug}/{html.escape(name)}.pdf">PDF</a> · '
               f'<a href="/output/{slug}/{html.escape(name)}.docx">DOCX</a></nav>')
        script = RELOAD.format(version=preview.version, name=html.escape(name))
        if preview.problems or preview.html is None:
            lines = "\n".join(html.escape(line) for line in preview.problems)
            body = (f"{bar}<main><h1>Mistakes in {html.escape(name)}</h1>"
                    f'<pre class="problems">{lines}</pre></main>{script}')
            return HTMLResponse(_page(f"Mistakes: {name}", body))
        page = preview.html.decode("utf-8")
        opened = page.index(">", page.index("<body")) + 1  # the bar opens the body
        page = page[:opened] + bar + page[opened:].replace("</body>", f"{script}</body>", 1)
        return HTMLResponse(page)

    async def preview_pdf(request: Request) -> Response:
        name = request.path_params["name"]
        preview = await asyncio.to_thread(previews.with_pdf, name)
        if preview.pdf is None or preview.problems:
            return Response("no PDF: the edition has mistakes", status_code=404)
        return Response(preview.pdf, media_type="application/pdf")

    async def output(request: Request) -> Response:
        slug, name = request.path_params["slug"], request.path_params["file"]
        path = files.path(f"{OUTPUT}/{slug}/{name}")
        if "/" in name or name.startswith(".") or not path.resolve().is_relative_to(
                files.path(OUTPUT).resolve()) or not path.is_file():
            return Response("not built (yet)", status_code=404)
        return FileResponse(path)

    async def events(request: Request) -> Response:
        queue: asyncio.Queue[str] = asyncio.Queue()
        listeners.loop = asyncio.get_running_loop()
        listeners.queues.add(queue)

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while True:
                    yield f"data: {await queue.get()}\n\n"
            finally:
                listeners.queues.discard(queue)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})

    return Starlette(routes=[
        Route("/", index), Route("/edition/{name}", edition),
        Route("/preview/{name}.pdf", preview_pdf), Route("/output/{slug}/{file}", output),
        Route("/events", events),
    ])


def serve(root: Path, port: int, limits: Limits,
          build: Callable[[list[str], Stop], object]) -> None:
    """Serve until interrupted."""
    import importlib

    # Imported here, once: the render workers are forked from this process
    # and inherit them, so a save does not wait for Python to import WeasyPrint.
    for module in ("briefing.render.html", "briefing.render.view", "briefing.render.fonts",
                   "briefing.writers.subset", "briefing.writers.html", "briefing.writers.pdf",
                   "fontTools.ttLib", "lxml.html"):
        importlib.import_module(module)
    listeners = _Listeners()
    outputs = OutputBuilder(build)
    previews = Previews(root, limits, listeners.tell, outputs)
    stop, watching = threading.Event(), threading.Event()

    def watcher() -> None:
        try:  # an editor's save is one write or one rename: 50 ms gathers it
            for changed in changes(root, stop, debounce=50, ready=watching.set):
                slugs = affected(root, changed)
                if slugs == []:
                    continue
                previews.refresh(slugs)  # then the outputs, in the background
        finally:
            watching.set()

    config = uvicorn.Config(app(root, previews, listeners), host=HOST, port=port,
                            log_level="warning", lifespan="off")
    server = _Server(config)
    for target, name in ((watcher, "briefing-watch"), (outputs.run, "briefing-outputs")):
        threading.Thread(target=target, name=name, daemon=True).start()
    watching.wait()  # "serving" is said once a save would be seen
    try:
        server.run()
    finally:
        stop.set()
        outputs.close()


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[object] | None = None) -> None:
        await super().startup(sockets)
        if self.started:  # listening now: say so, once
            print(f"serving the preview on http://{HOST}:{self.config.port}/ "
                  "(Ctrl-C to stop)", flush=True)


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>'
            f'{html.escape(title)}</title><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><style>body{{font-family:sans-serif;max-width:50rem;margin:2rem '
            f'auto;padding:0 1rem}}pre.problems{{white-space:pre-wrap;color:#8b1a1a}}</style>'
            f"</head><body>{body}</body></html>")
