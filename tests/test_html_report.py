"""Tests for utils.reporting.html (the offline summary page) and utils.reporting.plots.plot_anomaly_maps."""

import base64
import html.parser

import numpy as np
import pytest
from PIL import Image

from utils.reporting.html import write_summary_html
from utils.reporting.plots import plot_anomaly_maps, plot_roc

HOSTILE_TEXT = '<script>alert("x")</script> & \'quoted\''


class _PageParts(html.parser.HTMLParser):
    """The tags, the src/href attribute values, the image sources and the text of a page."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.links = []
        self.image_sources = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        self.links += [attributes[name] for name in ("src", "href") if name in attributes]
        if tag == "img":
            self.image_sources.append(attributes["src"])

    def handle_data(self, data):
        self.text.append(data)


def _parse(path):
    parts = _PageParts()
    parts.feed(path.read_text(encoding="utf-8"))
    return parts


def _embedded_png(source):
    prefix = "data:image/png;base64,"
    assert source.startswith(prefix)
    return base64.b64decode(source[len(prefix):], validate=True)


@pytest.fixture
def two_pngs(tmp_path):
    """Two different real PNG figures."""
    paths = [tmp_path / "roc_a.png", tmp_path / "roc_b.png"]
    plot_roc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], paths[0], "a")
    plot_roc([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.2], paths[1], "b")
    return paths


def _write_page(path, sections, title="Summary", header=("Class", "AUC"), rows=(("0", "0.9000"),),
                notes=("one note",)):
    write_summary_html(path, title, list(header), [list(row) for row in rows], list(notes), sections)


# write_summary_html


def test_page_refers_to_nothing_outside_itself(tmp_path, two_pngs):
    page = tmp_path / "summary.html"
    _write_page(page, [("Figures", two_pngs)])
    parts = _parse(page)
    assert parts.links and all(link.startswith(("data:", "#")) for link in parts.links)
    assert not {"script", "link", "iframe", "object", "embed"} & set(parts.tags)
    text = page.read_text(encoding="utf-8")
    assert "url(" not in text and "@import" not in text and "http" not in text


def test_page_embeds_the_exact_png_bytes_in_order(tmp_path, two_pngs):
    page = tmp_path / "summary.html"
    _write_page(page, [("First", [two_pngs[0]]), ("Second", [two_pngs[1], two_pngs[0]])])
    embedded = [_embedded_png(source) for source in _parse(page).image_sources]
    expected = [path.read_bytes() for path in (two_pngs[0], two_pngs[1], two_pngs[0])]
    assert embedded == expected


def test_page_shows_the_table_notes_and_headings_in_order(tmp_path, two_pngs):
    page = tmp_path / "summary.html"
    _write_page(
        page, [("ROC curves", two_pngs)], title="Run 7", header=["Class", "Our AUC"],
        rows=[["airplane", "0.8123"], ["Mean (2 classes)", "0.7000"]], notes=["first note", "second note"],
    )
    text = [piece.strip() for piece in _parse(page).text if piece.strip()]
    body = text[text.index("Run 7", 1):]
    assert body[:10] == [
        "Run 7", "Class", "Our AUC", "airplane", "0.8123", "Mean (2 classes)", "0.7000",
        "first note", "second note", "ROC curves",
    ]


def test_page_escapes_every_text(tmp_path, two_pngs):
    page = tmp_path / "summary.html"
    _write_page(
        page, [(HOSTILE_TEXT, two_pngs)], title=HOSTILE_TEXT, header=[HOSTILE_TEXT, "AUC"],
        rows=[[HOSTILE_TEXT, "0.5"]], notes=[HOSTILE_TEXT],
    )
    raw = page.read_text(encoding="utf-8")
    assert "<script>" not in raw
    parts = _parse(page)
    assert "script" not in parts.tags
    # title, h1, header cell, row cell, note, section heading: each read back as the text given.
    assert [piece for piece in parts.text if piece == HOSTILE_TEXT] == [HOSTILE_TEXT] * 6


def test_page_escapes_png_file_names(tmp_path):
    png = tmp_path / 'a"b<c>.png'
    plot_roc([0, 1], [0.2, 0.7], png, "odd name")
    page = tmp_path / "summary.html"
    _write_page(page, [("Figures", [png])])
    assert 'a"b<c>' not in page.read_text(encoding="utf-8")
    assert 'a"b<c>.png' in _parse(page).text


def test_page_skips_missing_pngs(tmp_path, two_pngs):
    page = tmp_path / "summary.html"
    _write_page(page, [("Figures", [tmp_path / "missing.png", two_pngs[1]]), ("Empty", [tmp_path / "gone.png"])])
    parts = _parse(page)
    assert [_embedded_png(source) for source in parts.image_sources] == [two_pngs[1].read_bytes()]
    assert "Empty" in parts.text and "missing.png" not in page.read_text(encoding="utf-8")


def test_page_rejects_a_file_that_is_not_a_png(tmp_path):
    fake = tmp_path / "figure.png"
    fake.write_bytes(b"GIF89a not a png")
    with pytest.raises(ValueError, match="is not a PNG file"):
        _write_page(tmp_path / "summary.html", [("Figures", [fake])])


def test_page_rejects_a_row_with_the_wrong_number_of_cells(tmp_path):
    page = tmp_path / "summary.html"
    with pytest.raises(ValueError, match="table row 2 has 1 cells but the header 2"):
        _write_page(page, [], rows=[["a", "b"], ["c"]])
    assert not page.exists()


def test_page_is_written_atomically_over_an_old_page(tmp_path, two_pngs):
    page = tmp_path / "out" / "summary.html"
    _write_page(page, [], title="old")
    _write_page(page, [("Figures", two_pngs)], title="new")
    assert "new" in _parse(page).text
    assert [entry.name for entry in page.parent.iterdir()] == ["summary.html"]


# plot_anomaly_maps


def _anomaly_batch(count, channels, size=(24, 20), seed=0):
    generator = np.random.default_rng(seed)
    images = generator.uniform(0, 1, (count, *size, channels))
    reconstructions = np.clip(images + generator.normal(0, 0.1, images.shape), 0, 1)
    maps = generator.gamma(2.0, 3.0, (count, *size))
    return images, reconstructions, maps, [f"score {index:.2f} image_{index}.png" for index in range(count)]


@pytest.mark.parametrize("channels", [1, 3])
def test_anomaly_maps_figure_grows_one_row_per_image(tmp_path, channels):
    sizes = {}
    for count in (1, 3):
        path = tmp_path / f"maps_{count}.png"
        plot_anomaly_maps(*_anomaly_batch(count, channels), path, f"{count} images")
        with Image.open(path) as figure:
            figure.verify()
        with Image.open(path) as figure:
            sizes[count] = figure.size
    (width_one, height_one), (width_three, height_three) = sizes[1], sizes[3]
    # 10 inches at 100 dpi; 3 inches per row plus the title.
    assert width_one == width_three == 1000
    assert 300 <= height_one <= 400
    assert height_three - height_one == 600


def test_anomaly_maps_accept_all_zero_maps_and_closes_its_figure(tmp_path):
    import matplotlib.pyplot as plt

    images, reconstructions, maps, captions = _anomaly_batch(2, 1)
    open_before = plt.get_fignums()
    plot_anomaly_maps(images, reconstructions, np.zeros_like(maps), captions, tmp_path / "m.png", "zero")
    assert (tmp_path / "m.png").is_file()
    assert plt.get_fignums() == open_before


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda batch: (batch[0][..., :2], batch[0][..., :2], batch[2], batch[3]), "C 1 or 3"),
        (lambda batch: (batch[0], batch[1][:1], batch[2], batch[3]), "one reconstruction"),
        (lambda batch: (batch[0], batch[1], batch[2][:, :5], batch[3]), "one \\(H, W\\) map per image"),
        (lambda batch: (batch[0], batch[1], -batch[2], batch[3]), "maps >= 0"),
        (lambda batch: (batch[0], batch[1], batch[2] * np.nan, batch[3]), "maps >= 0"),
        (lambda batch: (batch[0], batch[1], batch[2], batch[3][:1]), "one caption per image"),
    ],
)
def test_anomaly_maps_reject_mismatched_inputs_before_writing(tmp_path, change, message):
    path = tmp_path / "maps.png"
    with pytest.raises(ValueError, match=message):
        plot_anomaly_maps(*change(_anomaly_batch(2, 3)), path, "bad")
    assert not path.exists()
