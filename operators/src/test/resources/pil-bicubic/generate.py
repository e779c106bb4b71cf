"""Writes pillow-bicubic.txt: Pillow's own BICUBIC resize of small synthetic RGB images.

Run with Pillow 12.x: `python generate.py`. Each line: `w h outW outH hex`, where hex is the
resized image's RGB bytes (row-major) and the source pixel (x, y), channel c is
((x*x*7 + y*13 + c*101) ^ (y*y*3 + x*c)) & 0xff - PilBicubicResizerTest builds the same image.
"""
import PIL
from PIL import Image

CASES = [
    (7, 5, 3, 4),      # downsample both ways, tiny
    (7, 5, 11, 9),     # upsample both ways
    (13, 1, 5, 1),     # one row, horizontal only
    (1, 13, 1, 5),     # one column, vertical only
    (3, 3, 1, 1),      # to a single pixel
    (1, 1, 4, 3),      # from a single pixel
    (31, 47, 64, 16),  # up in x, down in y
    (100, 37, 37, 100),
    (60, 50, 23, 29),
]


def pixel(x, y, c):
    return ((x * x * 7 + y * 13 + c * 101) ^ (y * y * 3 + x * c)) & 0xFF


with open("pillow-bicubic.txt", "w") as out:
    out.write("# Pillow %s Image.resize(size, Image.BICUBIC), see generate.py\n" % PIL.__version__)
    for w, h, ow, oh in CASES:
        data = bytes(pixel(x, y, c) for y in range(h) for x in range(w) for c in range(3))
        resized = Image.frombytes("RGB", (w, h), data).resize((ow, oh), Image.BICUBIC)
        out.write("%d %d %d %d %s\n" % (w, h, ow, oh, resized.tobytes().hex()))
