"""The layers of the program: every import points down the layer order, and no module outside models/
branches on a method's name (everything a method decides, its Method object says).

Rank 0: data, losses, utils.scoring, utils.reporting (the parts); 1: models (the methods, built on the
parts); 2: utils.running (one run of one method); 3: utils.studies (grids of runs);
4: main, reproduce and bench (the programs).
"""

import ast
from pathlib import Path

import pytest

from models.detector_model import DetectorModel
from models.registry import METHODS

REPOSITORY = Path(__file__).resolve().parent.parent
PACKAGES = ("data", "losses", "models", "utils", "bench")
SCRIPTS = ("main.py", "reproduce.py")
RANKS = {"data": 0, "losses": 0, "utils.scoring": 0, "utils.reporting": 0, "models": 1, "utils.running": 2,
         "utils.studies": 3, "main": 4, "reproduce": 4, "bench": 4}
# Within rank 0, the parts that must not know each other: (importer, what it must not import).
FORBIDDEN = (("data", "utils"), ("utils.scoring", "utils.reporting"), ("utils.reporting", "utils.scoring"))
METHOD_NAMES = tuple(METHODS)
METHOD_CLASSES = tuple(model.__name__ for model in DetectorModel.__subclasses__())
# The modules that know no method at all: not even a method's name as a constant.
GENERIC = ("data", "utils.scoring", "utils.reporting", "utils.running", "main")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPOSITORY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in
           [REPOSITORY / script for script in SCRIPTS]
           + sorted(path for package in PACKAGES for path in (REPOSITORY / package).rglob("*.py"))}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def layer(module: str) -> str | None:
    """The entry of RANKS that `module` belongs to (the longest that matches), or None."""
    matches = [name for name in RANKS if within(module, name)]
    return max(matches, key=len) if matches else None


def project_imports(module: str) -> list[tuple[int, str]]:
    """(line, imported project module) of every import in `module`, function-level and TYPE_CHECKING ones too."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    imports = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if isinstance(node, ast.Import):
            imports += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from utils.scoring import normalise` imports the module utils.scoring.normalise.
            imports += [(node.lineno, f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
                        for alias in node.names]
    return [(line, name) for line, name in imports if name.split(".")[0] in PACKAGES + ("main", "reproduce")]


def test_every_project_module_has_a_layer():
    assert "utils.running.config" in MODULES and "main" in MODULES and "bench.timing" in MODULES
    # The utils package itself only groups its layers.
    assert [module for module in MODULES if layer(module) is None] == ["utils"]


def test_imports_are_read_as_the_modules_they_load():
    imported = {name for _, name in project_imports("models.dgad.model")}
    # `from losses import dgad as losses` loads the module losses.dgad; `from models.dgad.pretext import LABEL_GROUPS`
    # the module models.dgad.pretext; imports of other libraries are not the project's.
    assert {"losses.dgad", "models.dgad.pretext", "models.dgad.networks"} <= imported
    assert not any(name.split(".")[0] in ("keras", "tensorflow") for name in imported)


def import_violations(module: str) -> list[str]:
    violations = []
    for line, imported in project_imports(module):
        importer_layer, imported_layer = layer(module), layer(imported)
        if imported_layer is None:
            violations.append(f"{module}:{line} imports {imported}, which has no layer")
        elif RANKS[imported_layer] > RANKS[importer_layer]:
            violations.append(f"{module}:{line} (rank {RANKS[importer_layer]}) imports {imported} "
                              f"(rank {RANKS[imported_layer]})")
        elif within(module, "losses") and not within(imported, "losses"):
            violations.append(f"{module}:{line} imports {imported}: losses import nothing from the project")
        else:
            violations += [f"{module}:{line} imports {imported}: {importer} must not import {forbidden}"
                           for importer, forbidden in FORBIDDEN
                           if within(module, importer) and within(imported, forbidden)]
    return violations


def test_imports_only_point_down_the_layer_order():
    assert [violation for module in MODULES for violation in import_violations(module)] == []


@pytest.mark.parametrize("module, source, line", [
    ("data.probe", "from utils.running.config import Config", 1),
    ("data.probe", "import utils.reporting.files", 1),
    ("losses.probe", "import numpy\nfrom data import pipeline", 2),
    ("utils.scoring.probe", "def f():\n    from utils.reporting.markdown import cell_text", 2),
    ("models.probe", "from utils.studies import runner", 1),
    ("utils.running.probe", "from .. import studies", 1),
])
def test_the_checks_catch_an_import_against_the_layer_order(module, source, line, tmp_path, monkeypatch):
    (tmp_path / "probe.py").write_text(source)
    monkeypatch.setitem(MODULES, module, tmp_path / "probe.py")
    assert [violation.split(" ", 1)[0] for violation in import_violations(module)] == [f"{module}:{line}"]


def names_a_method(node) -> bool:
    """A constant method name, alone or in a tuple, list or set."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(names_a_method(element) for element in node.elts)
    return isinstance(node, ast.Constant) and node.value in METHOD_NAMES


def is_method_class(node) -> bool:
    if isinstance(node, ast.Tuple):
        return any(is_method_class(element) for element in node.elts)
    return ((isinstance(node, ast.Name) and node.id in METHOD_CLASSES)
            or (isinstance(node, ast.Attribute) and node.attr in METHOD_CLASSES))


def method_branches(module: str) -> list[str]:
    """Where `module` compares with a method's name, matches on one, or asks whether a model is one method's."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if (isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn))
                                                  for op in node.ops)
                and any(names_a_method(operand) for operand in [node.left, *node.comparators])):
            found.append(f"{module}:{node.lineno} compares with a method name: {ast.unparse(node)}")
        elif isinstance(node, ast.MatchValue) and names_a_method(node.value):
            found.append(f"{module}:{node.lineno} matches a method name: case {ast.unparse(node.value)}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
              and len(node.args) == 2 and is_method_class(node.args[1])):
            found.append(f"{module}:{node.lineno} tests a model's method: {ast.unparse(node)}")
    return found


def test_the_checks_catch_a_branch_on_a_method_name(tmp_path, monkeypatch):
    source = ('if config.method == "dgad": pass\nif name in ("x", "adcgan"): pass\nmatch method:\n'
              '    case "dgad": pass\nif isinstance(model, (DGAD, dict)): pass\nif method.name == x: pass\n')
    (tmp_path / "probe.py").write_text(source)
    monkeypatch.setitem(MODULES, "probe", tmp_path / "probe.py")
    assert sorted(finding.split(" ", 1)[0] for finding in method_branches("probe")) == [
        "probe:1", "probe:2", "probe:4", "probe:5"]


@pytest.mark.parametrize("module", [module for module in MODULES if not within(module, "models")])
def test_no_module_outside_models_branches_on_a_method(module):
    assert method_branches(module) == []


def method_names(module: str) -> list[str]:
    """Where `module` holds a method's name or title as a constant."""
    words = set(METHOD_NAMES) | {method.title for method in METHODS.values()}
    return [f"{module}:{node.lineno} names {node.value!r}" for node in ast.walk(ast.parse(MODULES[module].read_text()))
            if isinstance(node, ast.Constant) and node.value in words]


def test_the_methods_are_known_to_the_checks():
    assert {"dgad", "adcgan", "autoencoder"} <= set(METHOD_NAMES)
    assert {"DGAD", "ADCGAN", "Autoencoder"} <= set(METHOD_CLASSES)


@pytest.mark.parametrize("module", [module for module in MODULES if any(within(module, part) for part in GENERIC)])
def test_no_generic_module_names_a_method(module):
    assert method_names(module) == []
