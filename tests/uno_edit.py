"""Edit DOCX files through LibreOffice's own automation (Python-UNO), as an
official's LibreOffice would: for tests/test_review.py.

Run with the Python that has LibreOffice's `uno` module (Debian's
python3-uno: /usr/bin/python3), never the project's virtual environment:

    /usr/bin/python3 tests/uno_edit.py PROFILE_DIR JOB.json

JOB.json is a list of jobs, each {"in": path, "out": path, "author": name,
"edits": [...]}; one LibreOffice process does them all. An edit is one of

    {"replace": "old", "by": "new", "tracked": true}   first match, with record
                                                       changes on or off
    {"comment": "text", "on": "anchor text",           a comment on the anchor
     "date": "2021-06-02"}
    {"paragraph_after": "text", "text": "new"}         a new paragraph after the one
                                                       holding `text`

and a job without edits is the plain round trip (open, save as DOCX).
Each document is saved with LibreOffice's "MS Word 2007 XML" filter.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

READY_WITHIN = 60.0  # seconds LibreOffice may take to accept connections
POLL = 0.05
MAX_SKIPPED = 16  # marks in a paragraph before the words looked for


def _property(name: str, value: object) -> PropertyValue:
    found = PropertyValue()
    found.Name, found.Value = name, value
    return found


def _connect(profile: str) -> tuple[subprocess.Popen, object]:
    """Start LibreOffice on a pipe of its own, with its own profile, and connect
    (as LibreOffice's own officehelper.bootstrap does: it accepts once started)."""
    pipe = f"briefing_review_{uuid.uuid4().hex}"
    office = subprocess.Popen(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--invisible",
         "--nologo", "--nodefault", "--norestore", "--nolockcheck",
         f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + READY_WITHIN
    while True:
        try:
            context = resolver.resolve(
                f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return office, context
        except NoConnectException:
            if time.monotonic() > deadline or office.poll() is not None:
                office.kill()
                raise
            time.sleep(POLL)


def _author(context: object, name: str) -> None:
    """The name LibreOffice records tracked changes under (Tools > Options > User Data)."""
    provider = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", context)
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (_property("nodepath", "/org.openoffice.UserProfile/Data"),))
    first, _, last = name.partition(" ")
    access.setPropertyValue("givenname", first)
    access.setPropertyValue("sn", last)
    access.commitChanges()


def _find(document: object, text: str) -> object:
    """The first range holding `text`, in the body or a table cell. The
    document is loaded without a view (see main), where XSearchable finds
    nothing, so paragraphs are walked and a cursor made over the words."""
    for paragraph in _paragraphs(document):
        at = paragraph.getString().find(text)
        if at < 0:
            continue
        # A content control or comment anchor is a character to a cursor but not
        # in getString(): step past as many as stand before the words.
        for skipped in range(MAX_SKIPPED):
            cursor = paragraph.getText().createTextCursorByRange(paragraph.getStart())
            cursor.goRight(at + skipped, False)
            cursor.goRight(len(text), True)
            if cursor.getString() == text:
                return cursor
    raise SystemExit(f"uno_edit: {text!r} not found")


def _paragraphs(document: object) -> list[object]:
    found = []
    texts = [document.getText()]
    tables = document.getTextTables()
    for i in range(tables.getCount()):
        table = tables.getByIndex(i)
        texts += [table.getCellByName(name).getText() for name in table.getCellNames()]
    for text in texts:
        items = text.createEnumeration()
        while items.hasMoreElements():
            item = items.nextElement()
            if item.supportsService("com.sun.star.text.Paragraph"):
                found.append(item)
    return found


def _edit(document: object, edit: dict, author: str) -> None:
    if "replace" in edit:
        document.RecordChanges = bool(edit.get("tracked"))
        _find(document, edit["replace"]).setString(edit["by"])
        document.RecordChanges = False
    elif "comment" in edit:
        anchor = _find(document, edit["on"])
        note = document.createInstance("com.sun.star.text.TextField.Annotation")
        note.Author = author
        note.Content = edit["comment"]
        if "date" in edit:  # as the user interface stamps it; the API leaves it empty
            year, month, day = (int(part) for part in edit["date"].split("-"))
            stamp = uno.createUnoStruct("com.sun.star.util.DateTime")
            stamp.Year, stamp.Month, stamp.Day = year, month, day
            note.DateTimeValue = stamp
        anchor.getText().insertTextContent(anchor, note, True)
    elif "paragraph_after" in edit:
        found = _find(document, edit["paragraph_after"])
        cursor = found.getText().createTextCursorByRange(found.getEnd())
        cursor.gotoEndOfParagraph(False)
        document.RecordChanges = bool(edit.get("tracked"))
        cursor.getText().insertControlCharacter(cursor, 0, False)  # PARAGRAPH_BREAK
        cursor.getText().insertString(cursor, edit["text"], False)
        document.RecordChanges = False


def main(profile: str, job_file: str) -> None:
    with open(job_file, encoding="utf-8") as stream:
        jobs = json.load(stream)
    office, context = _connect(profile)
    try:
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context)
        for job in jobs:
            _author(context, job.get("author", "Olga Official"))
            # The document alone, without a view: LibreOffice 7.4 (Debian's
            # libreoffice-core-nogui) aborts once a view shows a comment.
            document = context.ServiceManager.createInstanceWithContext(
                "com.sun.star.text.TextDocument", context)
            document.load((_property("URL", uno.systemPathToFileUrl(os.path.abspath(job["in"]))),
                           _property("FilterName", "MS Word 2007 XML")))
            for edit in job.get("edits", []):
                _edit(document, edit, job.get("author", "Olga Official"))
            document.storeToURL(uno.systemPathToFileUrl(os.path.abspath(job["out"])),
                                (_property("FilterName", "MS Word 2007 XML"),))
            document.close(True)
        with contextlib.suppress(Exception):  # the bridge goes down with LibreOffice
            desktop.terminate()
    except BaseException:
        office.kill()
        raise
    finally:
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main(*sys.argv[1:])
