"""The methods behind one interface (method.py), listed in registry.py, and the layers they share."""
