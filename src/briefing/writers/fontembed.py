"""The DOCX's typefaces carried inside it, as Word embeds them (and LibreOffice
reads and writes them).

A DOCX names its typefaces (theme.yaml's Noto Serif and Noto Sans); Word on a
machine without them substitutes its own, and every page breaks elsewhere.
So the writer embeds the four faces of each (regular, bold, italic, bold
italic: an official's edit may need any of them) the way Word's "Embed fonts
in the file" does (ECMA-376 Part 1, 17.8.1 and 17.8.3):

- each face is a part `word/fonts/fontN.odttf`, an obfuscated TrueType font:
  its first 32 bytes XORed with its font key, a GUID, read as 16 bytes in
  reverse order;
- `word/fontTable.xml` lists each typeface with what Word needs to find or
  replace it (panose, family, signature from the font's OS/2 table) and
  `w:embedRegular`, `w:embedBold`, ... naming the part and its key;
- settings.xml says `w:embedTrueTypeFonts` and `w:saveSubsetFonts`.

The faces are subset with fontTools to the characters the document uses, both
cases of each letter, and, since the DOCX is there to be edited, the whole
alphabets of the project's scripts with their punctuation and currency signs
(EDITABLE: an official typing "ё", "ə" or "…" on a machine without Noto gets
Noto's glyph, not a fallback's), which Noto's licence (OFL) allows: a fraction
of the whole face, without the positioning table (see `subset`). Same
document, same bytes: the key is a digest of the face and its subset,
and fontTools is asked not to stamp the time.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part, XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn

from briefing.files import ProjectFiles, cached, keep_cached
from briefing.render.layout import font_stamps
from briefing.render.theme import Theme
from briefing.writers.wordml import setting

OBFUSCATED_FONT = "application/vnd.openxmlformats-officedocument.obfuscatedFont"
FONT_TABLE = "application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"
# The four faces of a typeface, as fontTable.xml names their parts, in the schema's order.
FACES = (("Regular", False, False), ("Bold", True, False), ("Italic", False, True),
         ("BoldItalic", True, True))
OBFUSCATED_BYTES = 32  # 17.8.1: the first 32 bytes of the font are XORed with the key
ASCII = "".join(chr(code) for code in range(0x20, 0x7F))
# What an official may type into any edition, whatever it shows: the whole
# alphabets of the project's languages (en, az, ru and the Latin and Cyrillic
# languages beside them), their punctuation and the signs typography joins to
# numbers, so an edit never falls back to another font where the face has the
# glyph (Noto has them all). Code points the face lacks are left out by the subsetter.
EDITABLE_RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x00FF),  # Latin-1 Supplement: é ü ö ç, « », °, ², ³, £
    (0x0100, 0x017F),  # Latin Extended-A: Azerbaijani ş Ş ğ Ğ ı İ
    (0x018F, 0x018F), (0x0259, 0x0259),  # Azerbaijani Ə ə
    (0x0400, 0x045F),  # Cyrillic: ё Ё ъ Ъ ...
    (0x0490, 0x04FF),  # Cyrillic: Ukrainian Ґ, Kazakh, Azerbaijani Cyrillic Ҹ Ә ...
    (0x2010, 0x2027),  # General Punctuation: dashes, ’ “ ” „ … no-break hyphen
    (0x2030, 0x203A),  # ‰ ′ ″ ‹ ›
    (0x2116, 0x2116),  # №
)
# The currency signs render/typography.py keeps with their amounts ($ and £ above).
CURRENCY_SIGNS = "€₼₽"  # € ₼ ₽
EDITABLE = "".join(chr(code) for first, last in EDITABLE_RANGES
                   for code in range(first, last + 1)) + CURRENCY_SIGNS
# What Word's fontTable says of a typeface's kind, by the theme's role for it.
FAMILY = {"serif": "roman", "sans": "swiss"}


@dataclass(frozen=True)
class Embedded:
    """One face as it goes into the package: its obfuscated bytes and key."""

    style: str  # Regular, Bold, Italic, BoldItalic
    data: bytes
    key: str  # {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}


def embed_fonts(doc: DocxDocument, theme: Theme, files: ProjectFiles) -> None:
    """Embed the theme's two typefaces, all four faces each, subset to what the
    document shows and what an edit may type (EDITABLE); list them in the font
    table; tell Word they are there.
    A face fonts/ lacks (a project's own typeface without a bold italic) is
    left out: Word then slants or emboldens the regular, as without embedding."""
    faces = project_faces(files)
    characters = "".join(sorted(set(used_characters(doc)) | set(EDITABLE)))
    table = _font_table(doc)
    number = 0
    for role in ("serif", "sans"):
        name = getattr(theme.fonts, role).face
        entry = _font_entry(table, name)
        for style, bold, italic in FACES:
            path = faces.get((name, bold, italic))
            if path is None:
                continue
            number += 1
            embedded = _embedded(path, path.stat().st_mtime_ns, characters, style)
            part = Part(PackURI(f"/word/fonts/font{number}.odttf"), OBFUSCATED_FONT,
                        embedded.data, doc.part.package)
            r_id = table.relate_to(part, RELATIONSHIP_TYPE.FONT)
            entry.append(OxmlElement(f"w:embed{style}", {qn("r:id"): r_id,
                                                        qn("w:fontKey"): embedded.key}))
        described = faces.get((name, False, False)) or faces.get((name, True, False))
        if described is not None:
            _describe(entry, described, FAMILY[role])
    setting(doc, OxmlElement("w:embedTrueTypeFonts"))
    setting(doc, OxmlElement("w:saveSubsetFonts"))


def used_characters(doc: DocxDocument) -> str:
    """Every character the package's text shows (body, headers, footers,
    footnotes, list numbers), with both cases of each letter (caps styles
    show capitals; an edit may want the other case) and printable ASCII
    (page numbers, and what Word draws for a no-break hyphen)."""
    found: set[str] = set(ASCII)
    for part in doc.part.package.iter_parts():
        element = getattr(part, "element", None)
        if element is None:  # a part python-docx keeps as bytes: no text of the document
            continue
        for text in element.iter(qn("w:t")):
            found.update(text.text or "")
        for level in element.iter(qn("w:lvlText")):
            found.update(level.get(qn("w:val"), ""))
    found |= {variant for char in found for variant in (char.upper(), char.lower())
              if len(variant) == 1}
    return "".join(sorted(found))


def project_faces(files: ProjectFiles) -> dict[tuple[str, bool, bool], Path]:
    """The font files of fonts/ by (family, bold, italic), from their name tables."""
    return _faces(font_stamps(files))


@functools.cache
def _faces(fonts: tuple[tuple[Path, int], ...]) -> dict[tuple[str, bool, bool], Path]:
    from fontTools.ttLib import TTFont

    faces: dict[tuple[str, bool, bool], Path] = {}
    for path, _ in fonts:
        try:
            font = TTFont(str(path), lazy=True)
            names, selection = font["name"], font["OS/2"].fsSelection
        except Exception:  # an unreadable font file: the glyph check reports it
            continue
        family = names.getDebugName(16) or names.getDebugName(1) or ""
        # OS/2 fsSelection: bit 0 italic, bit 5 bold (what Word and fontconfig read)
        faces.setdefault((family, bool(selection & 0x20), bool(selection & 0x01)), path)
    return faces


@functools.lru_cache(maxsize=32)
def _embedded(path: Path, stamp: int, characters: str, style: str) -> Embedded:
    """A face subset to `characters` and obfuscated with a key made from it."""
    data = _remembered_subset(path.read_bytes(), characters)
    digest = hashlib.sha256(style.encode() + data).hexdigest().upper()
    key = (f"{{{digest[0:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-"
           f"{digest[20:32]}}}")
    return Embedded(style, obfuscate(data, key), key)


# Subsets kept in the user's cache: a subset takes fontTools a tenth of a second
# a face (eight faces a DOCX), and nearly every document asks for the same one
# (EDITABLE holds what it shows). The newest are kept; the oldest go.
KEPT_SUBSETS = 64


def _remembered_subset(font: bytes, characters: str) -> bytes:
    """`subset(font, characters)`, remembered in the user's cache folder by the
    digest of the font, the characters and fontTools' version: the same bytes
    as made afresh (a subset is a function of these), for a read."""
    from fontTools import version as fonttools_version

    key = hashlib.sha256(b"\0".join((fonttools_version.encode(), font,
                                      characters.encode()))).hexdigest()
    data = cached("fonts", f"{key}.ttf")
    if data is not None and data[:4] in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
        return data
    data = subset(font, characters)
    keep_cached("fonts", f"{key}.ttf", data, KEPT_SUBSETS)
    return data


def subset(font: bytes, characters: str) -> bytes:
    """`font` with only the glyphs `characters` need (and what its substitutions
    reach from them); its names, licence included, and hinting kept. Without
    its positioning table (GPOS: pair kerning, mark attachment), whose reading
    takes most of the time (1.1 s CPU a document for the eight faces, 0.3 s
    without it): Word
    kerns only where a style asks (w:kern: the Title, not the text), marks
    are for combining accents the editions' NFC text does not have, and
    LibreOffice breaks every line and page of the examples where it does with
    the whole fonts installed (tests/test_docx_fonts.py; README)."""
    from fontTools import subset as fontsubset
    from fontTools.ttLib import TTFont

    loaded = TTFont(io.BytesIO(font), recalcTimestamp=False, lazy=True)
    if "GPOS" in loaded:
        del loaded["GPOS"]
    options = fontsubset.Options()
    options.name_IDs = ["*"]  # the licence and copyright go with the font (OFL)
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    subsetter = fontsubset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(loaded)
    out = io.BytesIO()
    loaded.save(out, reorderTables=True)
    return out.getvalue()


def obfuscate(font: bytes, key: str) -> bytes:
    """17.8.1: the first 32 bytes XORed with the key's 16 bytes, taken from its
    hex digits in reverse order. Its own inverse: obfuscate(obfuscate(f)) == f."""
    hex_digits = key.strip("{}").replace("-", "")
    key_bytes = bytes.fromhex(hex_digits)[::-1]
    head = bytes(byte ^ key_bytes[i % len(key_bytes)]
                 for i, byte in enumerate(font[:OBFUSCATED_BYTES]))
    return head + font[OBFUSCATED_BYTES:]


def _font_table(doc: DocxDocument) -> XmlPart:
    """The font table as a part the writer can change: the reference document's
    (read by python-docx as bytes) made an XML part, in its place; fonts it
    embedded already go with the old part."""
    main = doc.part
    old = next(((r_id, rel.target_part) for r_id, rel in main.rels.items()
                if rel.reltype == RELATIONSHIP_TYPE.FONT_TABLE), None)
    if old is None:
        element = parse_xml(f"<w:fonts {nsdecls('w', 'r')}/>")
    else:
        element = parse_xml(old[1].blob)
        main.drop_rel(old[0])
        for font in element.iter(qn("w:font")):
            for embed in [child for child in font
                          if child.tag.rpartition("}")[2].startswith("embed")]:
                font.remove(embed)
    part = XmlPart(PackURI("/word/fontTable.xml"), FONT_TABLE, element, main.package)
    main.relate_to(part, RELATIONSHIP_TYPE.FONT_TABLE)
    return part


def _font_entry(table: XmlPart, name: str) -> object:
    """The table's w:font for `name`, made if missing."""
    for font in table.element.iter(qn("w:font")):
        if font.get(qn("w:name")) == name:
            return font
    font = OxmlElement("w:font", {qn("w:name"): name})
    table.element.append(font)
    return font


def _describe(entry: object, path: Path, family: str) -> None:
    """What Word reads to find the typeface, or the nearest it has: panose,
    character set, kind, pitch and the Unicode ranges and code pages of the
    whole font (its OS/2 table), before the embed elements (CT_Font's order)."""
    from fontTools.ttLib import TTFont

    os2 = TTFont(str(path), lazy=True)["OS/2"]
    panose = os2.panose
    digits = "".join(f"{getattr(panose, field):02X}" for field in (
        "bFamilyType", "bSerifStyle", "bWeight", "bProportion", "bContrast",
        "bStrokeVariation", "bArmStyle", "bLetterForm", "bMidline", "bXHeight"))
    for child in [child for child in entry
                  if not child.tag.rpartition("}")[2].startswith("embed")]:
        entry.remove(child)
    ranges = (os2.ulUnicodeRange1, os2.ulUnicodeRange2, os2.ulUnicodeRange3,
              os2.ulUnicodeRange4)
    signature = {qn(f"w:usb{i}"): f"{value:08X}" for i, value in enumerate(ranges)}
    signature |= {qn("w:csb0"): f"{os2.ulCodePageRange1:08X}",
                  qn("w:csb1"): f"{os2.ulCodePageRange2:08X}"}
    described = [OxmlElement("w:panose1", {qn("w:val"): digits}),
                 OxmlElement("w:charset", {qn("w:val"): "00"}),
                 OxmlElement("w:family", {qn("w:val"): family}),
                 OxmlElement("w:pitch", {qn("w:val"): "variable"}),
                 OxmlElement("w:sig", signature)]
    for position, child in enumerate(described):
        entry.insert(position, child)
