"""A summary page in one HTML file that opens offline: a table, notes and PNG figures embedded in it."""

import base64
import html
import os
from pathlib import Path

from utils.reporting.files import write_text_atomically

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Inline, because the page must not fetch anything: it is read from a copied results folder or offline.
_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.7em; text-align: left; }
th { background: #eee; }
td { font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #555; }
"""


def write_summary_html(
    path: str | os.PathLike,
    title: str,
    table_header: list[str],
    table_rows: list[list[str]],
    notes: list[str],
    sections: list[tuple[str, list[Path]]],
) -> None:
    """Write the page: title, table, notes, then each section's PNGs (files that do not exist are skipped)."""
    for number, row in enumerate(table_rows, start=1):
        if len(row) != len(table_header):
            raise ValueError(
                f"table row {number} has {len(row)} cells but the header {len(table_header)}: "
                "pass one cell per column"
            )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{html.escape(title)}</h1>",
        _table_html(table_header, table_rows),
    ]
    parts += [f"<p>{html.escape(note)}</p>" for note in notes]
    parts += [_section_html(heading, png_paths) for heading, png_paths in sections]
    parts += ["</body>", "</html>", ""]
    write_text_atomically(path, "\n".join(parts))


def _table_html(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _section_html(heading: str, png_paths: list[Path]) -> str:
    figures = [_figure_html(Path(png_path)) for png_path in png_paths if Path(png_path).is_file()]
    if not figures:
        figures = ["<p>No figures were found for this section.</p>"]
    return "\n".join(["<section>", f"<h2>{html.escape(heading)}</h2>", *figures, "</section>"])


def _figure_html(png_path: Path) -> str:
    png = png_path.read_bytes()
    if not png.startswith(_PNG_SIGNATURE):
        raise ValueError(f"{png_path} is not a PNG file: pass PNG figures only")
    data_uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    name = html.escape(png_path.name)
    return f'<figure><img src="{data_uri}" alt="{name}"><figcaption>{name}</figcaption></figure>'
