"""What took part in making an edition, as this installation reports it.

The build manifest records it so that, years later, a rebuild that differs
can say why: the installed version of every Python distribution Briefing
runs on (read with importlib.metadata from the distributions themselves),
the native libraries as WeasyPrint and cairo report their versions, the
fonts' SHA-256, the Python version and the platform. The same environment
always gives the same record (sorted keys, nothing from the clock, no host
name or kernel release, which do not shape the bytes).
"""

from __future__ import annotations

import importlib.metadata as metadata
import platform
import re
from collections.abc import Iterator

from briefing.files import ProjectFiles

# Besides what Briefing's own distribution requires: what publishing itself
# runs (the bag, the PDF post-processing, the seal).
ARCHIVE_TOOLS = ("bagit", "pikepdf", "pyhanko")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def environment(files: ProjectFiles) -> dict[str, object]:
    """The record of this installation, for the build manifest."""
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform_name(),
        "distributions": distributions(),
        "libraries": libraries(),
        "fonts_sha256": {path.name: files.digest(path, limit=1 << 30)
                         for path in files.fonts()},
    }


def platform_name() -> str:
    libc, version = platform.libc_ver()
    return " ".join(part for part in (platform.system(), platform.machine(),
                                      f"{libc} {version}".strip()) if part)


def distributions() -> dict[str, str]:
    """name -> installed version of Briefing and everything it runs on: the
    distributions its installed metadata requires, transitively (extras left
    out), and the archive's own tools."""
    found: dict[str, str] = {}
    todo = ["briefing", *ARCHIVE_TOOLS]
    while todo:
        name = _normal(todo.pop())
        if name in found:
            continue
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # a platform-conditional requirement not installed here
        todo += list(_requirements(name))
    return dict(sorted(found.items()))


def _requirements(name: str) -> Iterator[str]:
    for requirement in metadata.requires(name) or ():
        requirement, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = _NAME.match(requirement)
        if match:
            yield match.group(1)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def libraries() -> dict[str, str]:
    """The native libraries that lay out, shape, rasterise and find fonts, as
    they report their own versions: Pango through WeasyPrint's own binding,
    cairo through cairocffi (CairoSVG's), HarfBuzz, FreeType and Fontconfig
    from the same shared objects WeasyPrint loaded."""
    import cairocffi
    import cffi
    from weasyprint.text import ffi as weasyprint_ffi

    found = {"cairo": cairocffi.cairo_version_string()}
    number = weasyprint_ffi.pango.pango_version()
    found["pango"] = f"{number // 10000}.{number // 100 % 100}.{number % 100}"
    ffi = cffi.FFI()
    ffi.cdef("""
        const char *hb_version_string(void);
        int FcGetVersion(void);
        typedef struct FT_LibraryRec_ *FT_Library;
        int FT_Init_FreeType(FT_Library *library);
        void FT_Library_Version(FT_Library library, int *major, int *minor, int *patch);
        int FT_Done_FreeType(FT_Library library);
    """)
    for name, soname, read in (("harfbuzz", "libharfbuzz.so.0", _harfbuzz),
                               ("fontconfig", "libfontconfig.so.1", _fontconfig),
                               ("freetype", "libfreetype.so.6", _freetype)):
        try:
            found[name] = read(ffi, ffi.dlopen(soname))
        except OSError:
            found[name] = "not found"
    return dict(sorted(found.items()))


def _harfbuzz(ffi: object, lib: object) -> str:
    return ffi.string(lib.hb_version_string()).decode()


def _fontconfig(ffi: object, lib: object) -> str:
    number = lib.FcGetVersion()
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def _freetype(ffi: object, lib: object) -> str:
    library = ffi.new("FT_Library *")
    if lib.FT_Init_FreeType(library):
        return "not initialised"
    try:
        parts = [ffi.new("int *") for _ in range(3)]
        lib.FT_Library_Version(library[0], *parts)
        return ".".join(str(part[0]) for part in parts)
    finally:
        lib.FT_Done_FreeType(library[0])


def differences(then: dict[str, object], now: dict[str, object]) -> list[str]:
    """What differs between the edition's record and this installation, one
    phrase each: `pango 1.50.12 in the edition's record, 1.52.0 here`."""
    found = []
    for key in sorted(set(then) | set(now)):
        old, new = then.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            label = _GROUPS.get(key, f"{key} ")
            found += [f"{label}{name} {_shown(old.get(name))} in the edition's record, "
                      f"{_shown(new.get(name))} here"
                      for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
        elif old != new:
            found.append(f"{key} {_shown(old)} in the edition's record, {_shown(new)} here")
    return found


_GROUPS = {"distributions": "", "libraries": "", "fonts_sha256": "font "}


def _shown(value: object) -> str:
    return "absent" if value is None else str(value)
