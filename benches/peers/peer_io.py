"""Reading points for the peer scripts: the formats flowcert reads and writes."""
import json


def load_points(path):
    """An N x d float64 array from a CSV file (one point per row, optional header), a JSON
    array of points, or a `flowcert flow --json` document (its end points `y`)."""
    import numpy as np
    with open(path) as f:
        text = f.read()
    if text.lstrip()[:1] in ("[", "{"):
        v = json.loads(text)
        if isinstance(v, dict):  # flowcert flow --json
            return np.array([p["y"] for p in v["points"]], dtype=np.float64)
        return np.array(v, dtype=np.float64)
    rows = []
    label = None  # a `component` column named in the header (flowcert sample --out): dropped
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        try:
            values = [float(f) for f in fields]
        except ValueError:
            if i == 0:
                low = [f.lower() for f in fields]
                label = low.index("component") if "component" in low else None
                continue  # header
            raise
        if label is not None and label < len(values):
            del values[label]
        rows.append(values)
    return np.array(rows, dtype=np.float64)
