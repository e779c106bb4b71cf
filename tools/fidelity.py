#!/usr/bin/env python3
"""Fidelity of an exported GPFM model in SlideStream against PyTorch, tile by tile.

    /usr/bin/python3 tools/fidelity.py --model models/gpfm-random.onnx \\
        --tiles ../shared/fixtures/gpfm-tiny/tiles/*.png --slide .cache/slides/CMU-1-Small-Region.tiff

PyTorch side: the weights beside the model (`<stem>.pth`, as `export_onnx.py --random-weights`
writes them, or --weights) in GPFM's architecture (timm, or tools/gpfm_vit.py), on tiles
preprocessed as the GPFM reference does: PIL bicubic resize to 224 x 224, scale to [0, 1],
ImageNet normalisation. SlideStream side: `bin/slidestream embed` on the same tile images, and on
the slide's tissue tiles (whose regions Python cuts from the same file with PIL, level 0 only).
Prints the cosine and the largest absolute difference per tile, and exits 1 when a cosine is below
--min-cosine (0.9999).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_onnx  # noqa: E402

MEAN = np.array(export_onnx.IMAGENET_MEAN, dtype=np.float32).reshape(3, 1, 1)
STD = np.array(export_onnx.IMAGENET_STD, dtype=np.float32).reshape(3, 1, 1)


def parse_args(argv):
    p = argparse.ArgumentParser(description="SlideStream vs PyTorch embeddings, per tile.")
    p.add_argument("--model", required=True, help="the exported .onnx (with its .card.json)")
    p.add_argument("--weights", help="PyTorch weights (default: <model stem>.pth)")
    p.add_argument("--tiles", nargs="*", default=[], help="tile images (PNG/JPEG)")
    p.add_argument("--slide", help="a single-level TIFF slide whose tissue tiles to compare")
    p.add_argument("--max-slide-tiles", type=int, default=16)
    p.add_argument("--min-cosine", type=float, default=0.9999)
    p.add_argument("--cli", default=os.environ.get("SLIDESTREAM_CLI",
                                                   os.path.join(HERE, "..", "bin", "slidestream")))
    return p.parse_args(argv)


def preprocess(image):
    """GPFM's reference preprocessing: PIL bicubic to 224, [0, 1], ImageNet normalisation."""
    size = export_onnx.INPUT_SIZE
    rgb = image.convert("RGB").resize((size, size), Image.BICUBIC)
    x = np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return (x - MEAN) / STD


def torch_model(model_path, weights):
    with open(model_path[:-5] + ".card.json") as f:
        card = json.load(f)
    arch = card.get("timm", {})
    model, built_by = export_onnx.create_model(
        "auto", arch.get("depth", 24), arch.get("embed_dim", 1024), arch.get("num_heads", 16))
    state = torch.load(weights, map_location="cpu")
    model.load_state_dict(export_onnx.to_timm_state_dict(state), strict=True)
    return model.eval(), built_by


def java_embed(cli, model, inputs, out):
    cmd = cli.split() + ["embed", "--model", model, "--out", out, "--progress", "none"] + inputs
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("bin/slidestream embed failed:\n%s%s" % (done.stdout, done.stderr))
    with open(out) as f:
        return [json.loads(line) for line in f if line.strip()]


def compare(name, expected, actual):
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    cosine = float(e @ a / (np.linalg.norm(e) * np.linalg.norm(a)))
    return name, cosine, float(np.max(np.abs(e - a)))


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    weights = args.weights or args.model[:-5] + ".pth"
    t0 = time.time()
    model, built_by = torch_model(args.model, weights)
    print("PyTorch model: %s, weights %s (%.1f s to load)" % (built_by, weights, time.time() - t0))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.tiles:
            t0 = time.time()
            java = java_embed(args.cli, args.model, args.tiles, os.path.join(tmp, "tiles.jsonl"))
            java_seconds = time.time() - t0
            t0 = time.time()
            with torch.no_grad():
                for line in java:
                    x = torch.from_numpy(preprocess(Image.open(line["file"]))[None])
                    rows.append(compare(os.path.basename(line["file"]), model(x)[0].numpy(),
                                        line["embedding"]))
            print("tile images: SlideStream %.1f s, PyTorch %.1f s for %d tiles"
                  % (java_seconds, time.time() - t0, len(java)))
        if args.slide:
            t0 = time.time()
            java = java_embed(args.cli, args.model, [args.slide], os.path.join(tmp, "slide.jsonl"))
            java_seconds = time.time() - t0
            slide = Image.open(args.slide)
            t0 = time.time()
            with torch.no_grad():
                for line in java[: args.max_slide_tiles]:
                    if line["level"] != 0:
                        raise SystemExit("the slide is read at level %d; use a single-level slide"
                                         % line["level"])
                    r = line["read_px"]
                    region = slide.crop((line["x"], line["y"], line["x"] + r, line["y"] + r))
                    x = torch.from_numpy(preprocess(region)[None])
                    rows.append(compare("%s (%d, %d)" % (os.path.basename(args.slide), line["x"],
                                                         line["y"]),
                                        model(x)[0].numpy(), line["embedding"]))
            print("slide tiles: SlideStream %.1f s for %d tiles, PyTorch %.1f s for %d"
                  % (java_seconds, len(java), time.time() - t0,
                     min(len(java), args.max_slide_tiles)))
    width = max(len(r[0]) for r in rows)
    print("%-*s  %12s  %12s" % (width, "tile", "cosine", "max abs diff"))
    for name, cosine, diff in rows:
        print("%-*s  %12.8f  %12.3g" % (width, name, cosine, diff))
    worst = min(r[1] for r in rows)
    print("%d tiles: cosine min %.8f, mean %.8f; max abs diff %.3g (bar: cosine >= %g)"
          % (len(rows), worst, sum(r[1] for r in rows) / len(rows), max(r[2] for r in rows),
             args.min_cosine))
    return 0 if worst >= args.min_cosine else 1


if __name__ == "__main__":
    sys.exit(main())
