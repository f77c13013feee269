"""Server-side SVG chart geometry (no JavaScript, nothing from a CDN)."""


def line_chart(points: list[list], *, width: int = 640, height: int = 200, pad: int = 8) -> dict | None:
    """Return the SVG path and labels of a line through ``points`` ([[label, value], ...])."""
    values = [float(v) for _, v in points if v is not None]
    if len(values) < 2:
        return None
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 2 * pad) / (len(values) - 1)
    coords = [
        (pad + i * step, pad + (height - 2 * pad) * (1 - (v - lo) / span)) for i, v in enumerate(values)
    ]
    path = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    return {"path": path, "width": width, "height": height, "min": lo, "max": hi,
            "first": points[0][0], "last": points[-1][0], "up": values[-1] >= values[0]}


def heat_colour(value: float) -> str:
    """A colour for a correlation in [-1, 1]: blue for negative, red for positive."""
    v = max(-1.0, min(1.0, float(value)))
    if v >= 0:
        return f"rgba(200, 40, 40, {0.12 + 0.6 * v:.2f})"
    return f"rgba(40, 90, 200, {0.12 + 0.6 * -v:.2f})"
