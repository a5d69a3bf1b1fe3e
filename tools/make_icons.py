#!/usr/bin/env python3
"""Generate Attune's app icons into static/icons/.

The mark: two soft circles — a parent (cream) and a child (apricot) nestled
against it, separated by a thin gap — on deep teal.

Build-time only; needs Pillow, which the app itself does not depend on:
    python3 -m venv /tmp/iconvenv && /tmp/iconvenv/bin/pip install pillow
    /tmp/iconvenv/bin/python tools/make_icons.py
Writes icon.svg (source + favicon), icon-192.png, icon-512.png,
maskable-512.png, apple-touch-icon.png and badge-72.png.
Then recompress the PNGs (every first visit fetches them; 18 KB became 15.7 KB):
    apt-get install zopfli && for f in static/icons/*.png; do zopflipng -y -m --lossy_transparent "$f" "$f"; done
"""

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "static" / "icons"

TEAL = "#1D5C58"
CREAM = "#FBF7F2"
APRICOT = "#E8946A"

# Geometry in units of the icon's side (0..1); centre of the canvas is (0.5, 0.5).
PARENT = (0.435, 0.455, 0.235)  # cx, cy, r
CHILD = (0.625, 0.615, 0.150)
GAP = 0.028  # ring of background colour around the child
CORNER = 0.22  # rounded-square radius for the "any" icon
SS = 4  # supersampling factor


def svg(size=512):
    def c(v):
        return f"{v * size:g}"

    px, py, pr = PARENT
    cx, cy, cr = CHILD
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}">\n'
        "  <title>Attune</title>\n"
        f'  <rect width="{size}" height="{size}" rx="{c(CORNER)}" fill="{TEAL}"/>\n'
        f'  <circle cx="{c(px)}" cy="{c(py)}" r="{c(pr)}" fill="{CREAM}"/>\n'
        f'  <circle cx="{c(cx)}" cy="{c(cy)}" r="{c(cr + GAP / 2)}" fill="{APRICOT}" '
        f'stroke="{TEAL}" stroke-width="{c(GAP)}"/>\n'
        "</svg>\n"
    )


def circle(draw, cx, cy, r, s, fill):
    draw.ellipse([(cx - r) * s, (cy - r) * s, (cx + r) * s, (cy + r) * s], fill=fill)


def render(size, *, bg=TEAL, corner=CORNER, scale=1.0, mono=False):
    """Draw at SS x size, then downscale with a Lanczos filter for clean edges.

    scale shrinks the mark about the centre (maskable icons keep it inside the safe zone).
    """
    s = size * SS
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if bg is not None:
        if corner:
            d.rounded_rectangle([0, 0, s - 1, s - 1], radius=corner * s, fill=bg)
        else:
            d.rectangle([0, 0, s, s], fill=bg)

    def t(x, y, r):
        return 0.5 + (x - 0.5) * scale, 0.5 + (y - 0.5) * scale, r * scale

    px, py, pr = t(*PARENT)
    cx, cy, cr = t(*CHILD)
    gap = GAP * scale
    if mono:
        # White silhouettes on transparent: cut the gap ring out of the parent.
        circle(d, px, py, pr, s, (255, 255, 255, 255))
        circle(d, cx, cy, cr + gap, s, (0, 0, 0, 0))
        circle(d, cx, cy, cr, s, (255, 255, 255, 255))
    else:
        circle(d, px, py, pr, s, CREAM)
        circle(d, cx, cy, cr + gap, s, bg)
        circle(d, cx, cy, cr, s, APRICOT)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def save(img, name, *, opaque=False, mono=False):
    path = OUT / name
    if mono:
        # Pure white, shape carried only by alpha (grey+alpha PNG).
        alpha = img.getchannel("A")
        img = Image.merge("LA", (Image.new("L", img.size, 255), alpha))
        img.save(path, optimize=True)
        print(f"{name:22} {path.stat().st_size:6d} bytes")
        return
    if opaque:
        img = img.convert("RGB")
    # Quantising keeps the files tiny; the palette is a handful of flat colours.
    colors = 64 if not opaque else 128
    img = img.quantize(
        colors=colors, method=Image.Quantize.FASTOCTREE if img.mode == "RGBA" else Image.Quantize.MEDIANCUT
    )
    img.save(path, optimize=True)
    print(f"{name:22} {path.stat().st_size:6d} bytes")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "icon.svg").write_text(svg(), encoding="utf-8")
    print(f"{'icon.svg':22} {(OUT / 'icon.svg').stat().st_size:6d} bytes")
    save(render(192), "icon-192.png")
    save(render(512), "icon-512.png")
    # Maskable: full-bleed square; the mark sits well inside the central 80% circle.
    save(render(512, corner=0, scale=0.95), "maskable-512.png", opaque=True)
    # iOS rounds the corners itself and shows black behind transparency: opaque, full-bleed.
    save(render(180, corner=0, scale=0.92), "apple-touch-icon.png", opaque=True)
    # Notification badge: Android uses only the alpha channel.
    save(render(72, bg=None, corner=0, scale=1.3, mono=True), "badge-72.png", mono=True)


if __name__ == "__main__":
    main()
