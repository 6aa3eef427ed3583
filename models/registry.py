"""The methods the program can run, by --method name. Adding a method: a package under models/ with a
Method object (models/method.py), and one line here."""

from models.adcgan.method import METHOD as ADCGAN
from models.autoencoder.method import METHOD as AUTOENCODER
from models.dgad.method import METHOD as DGAD
from models.method import Method

METHODS: dict[str, Method] = {method.name: method for method in (DGAD, ADCGAN, AUTOENCODER)}
# The paper this project reproduces first.
DEFAULT_METHOD = DGAD.name


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise ValueError(f"unknown method {name!r}; expected one of {tuple(METHODS)}")
    return METHODS[name]
