"""bench/plot_findings.py draws every findings figure from its CSV alone, and each page shows its figure."""
import re
import shutil
from pathlib import Path

import pytest

from bench import plot_findings

FINDINGS = Path(plot_findings.__file__).resolve().parent.parent / "docs" / "findings"
FIGURES = ("digits/per_class.png", "digits/roc_digit8.png", "digits/learning_curves.png", "digits/seed_rerun.png",
           "false_alarms/false_alarms.png", "score_stability/score_stability.png", "table5_speed/speed.png",
           "learning_curves/dgad_against_gan.png", "latent_channels/latent_channels.png",
           "memorisation/memorisation.png")


@pytest.fixture
def findings_copy(tmp_path, monkeypatch):
    """docs/findings' CSV files alone, in a temporary folder the script is pointed at."""
    copy = tmp_path / "docs" / "findings"
    for csv_file in FINDINGS.rglob("*.csv"):
        target = copy / csv_file.relative_to(FINDINGS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(csv_file, target)
    monkeypatch.setattr(plot_findings, "FINDINGS", copy)
    monkeypatch.setattr("sys.argv", ["plot_findings.py"])
    return copy


def test_every_figure_is_drawn_from_the_csv_files_alone(findings_copy, capsys):
    assert not list(findings_copy.rglob("*.png"))
    assert plot_findings.main() == 0
    assert "skipped" not in capsys.readouterr().out
    for figure in FIGURES:
        assert (findings_copy / figure).read_bytes().startswith(b"\x89PNG"), figure


def test_a_study_without_its_csv_is_skipped_with_its_name(findings_copy, capsys):
    (findings_copy / "table5_speed" / "speed.csv").unlink()
    assert plot_findings.main() == 0
    assert "skipped table5_speed/speed.csv" in capsys.readouterr().out
    assert not (findings_copy / "table5_speed" / "speed.png").exists()


@pytest.mark.parametrize("figure", FIGURES)
def test_each_figure_is_committed_and_shown_on_a_findings_page(figure):
    assert (FINDINGS / figure).exists(), f"run python bench/plot_findings.py and commit {figure}"
    pages = " ".join(path.read_text() for path in FINDINGS.rglob("*.md"))
    assert re.search(rf"\]\({re.escape(Path(figure).name)}\)", pages), f"no findings page shows {figure}"
