"""Small documents in every format, made here (a PDF included), for the knowledge tests."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
)

REFUND_MD = """---
title: Refund policy
language: en
---
# Refund policy

We want you to be happy with Lumen Analytics.

## Monthly plans

Monthly plans can be refunded within 14 days of the charge, in full.

## Annual plans

Annual plans are refunded pro rata for the unused months, minus a 10 % fee.
"""

EXPORT_HTML = """<!doctype html>
<html lang="fr-FR"><head><title>Exporter | Aide</title>
<script>var tracking = "ignore me";</script></head>
<body><nav>Accueil · Aide</nav>
<h1>Exporter vos données</h1>
<p>Vous pouvez exporter vos rapports au format CSV.</p>
<h2>Exports volumineux</h2>
<p>Les exports de plus d'un million de lignes sont envoyés par e-mail.</p>
<footer>© Lumen</footer></body></html>
"""

NOTES_TXT = """Status page

Our status page lists every incident and its resolution.
Subscribe to get an email when an incident starts.
"""


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(pages: list[list[str]], *, title: str | None = None) -> bytes:
    """A real PDF whose pages hold these lines of text (Helvetica), readable by pypdf."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    for lines in pages:
        page = writer.add_blank_page(width=612, height=792)
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            ops += [f"({_escape(line)}) Tj", "T*"]
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        page[NameObject("/MediaBox")] = ArrayObject(
            [NumberObject(0), NumberObject(0), NumberObject(612), NumberObject(792)]
        )
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def two_page_pdf() -> bytes:
    return pdf_bytes(
        [
            [
                "API rate limits",
                "",
                "Every API key may send 600 requests per minute.",
                "Past the limit the API answers HTTP 429 with a",
                "Retry-After header.",
            ],
            ["Error codes", "", "HTTP 401 means the API key is missing or revoked."],
        ],
        title="API guide",
    )
