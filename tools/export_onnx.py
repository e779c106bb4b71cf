#!/usr/bin/env python3
"""Export GPFM (a DINOv2 ViT-L/14) to ONNX for SlideStream, with a model card beside it.

Runs with torch and onnx; timm and onnxruntime are used when present. Without timm the model is
built from tools/gpfm_vit.py (plain torch, timm's parameter names, so both checkpoint layouts load
strictly into either); without onnxruntime in Python the export is checked through ONNX Runtime
Java, the engine the job uses (`bin/slidestream model-run`). So Debian's python3-torch and
python3-onnx (system Python, /usr/bin/python3) are enough. SlideStream never ships GPFM weights
(CC-BY-NC-ND 4.0): each user exports their own copy.

    python tools/export_onnx.py --weights GPFM.pth --out models/gpfm.onnx
    python tools/export_onnx.py --weights GPFM.pth --out models/gpfm-fp16.onnx --fp16
    python tools/export_onnx.py --random-weights --out models/gpfm-random.onnx   # tests, benchmarks
                                       # (also writes models/gpfm-random.pth, the weights it used)

Both published checkpoint layouts load: the timm-layout state dict (Hugging Face) and the DINOv2
training checkpoint (GitHub): for the latter the `backbone.*` keys are kept, the prefix stripped,
`blocks.<chunk>.<i>` renamed to `blocks.<i>` and `mask_token` dropped; loading is strict.

The model takes [N, 3, 224, 224] float (ImageNet-normalised RGB) and gives [N, 1024]: the CLS
token after the final LayerNorm. ONNX opset 17, dynamic batch, fixed image size, exported with
the TorchScript exporter (dynamo=False). After export, ONNX Runtime is checked against PyTorch on
random input and the largest difference is printed. The card (`<out stem>.card.json`) records
architecture, D, input size, normalisation, tile field of view and the SHA-256 of the source
weights and of the ONNX file; SlideStream reads it and derives the model id from it.
"""

import argparse
import hashlib
import json
import os
import re
import sys
import time

ARCH = "vit_large_patch14_dinov2"
INPUT_SIZE = 224
PATCH_SIZE = 14
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# GPFM's field of view: 256 px at 0.5 um/px (or 512 px at 0.25 um/px), resized to 224.
DEFAULT_TARGET_MPP = 0.5
DEFAULT_TILE_PX = 256
OPSET = 17


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Export GPFM (DINOv2 ViT-L/14) to ONNX with a SlideStream model card.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--weights", help="GPFM.pth: timm-layout state dict or DINOv2 training checkpoint")
    src.add_argument("--random-weights", action="store_true",
                     help="seeded random weights (tests and benchmarks; embeddings are meaningless)")
    p.add_argument("--out", required=True, help="output .onnx file")
    p.add_argument("--name", default=None,
                   help="model name in the card and the model id (default: gpfm, or gpfm-random)")
    p.add_argument("--fp16", action="store_true",
                   help="export in float16 (inputs and outputs float16; needs a CUDA device to check)")
    p.add_argument("--seed", type=int, default=0, help="seed for --random-weights and the check input")
    p.add_argument("--check-batch", type=int, default=2, help="batch size of the ONNX Runtime check")
    p.add_argument("--target-mpp", type=float, default=DEFAULT_TARGET_MPP,
                   help="tile resolution the weights were trained at, um/px (card only)")
    p.add_argument("--tile-px", type=int, default=DEFAULT_TILE_PX,
                   help="tile edge at --target-mpp before the resize to 224 (card only)")
    p.add_argument("--device", default=None, help="torch device for export and check (default: cuda if available)")
    p.add_argument("--architecture", choices=["auto", "timm", "torch"], default="auto",
                   help="timm's model or tools/gpfm_vit.py (default: timm when installed)")
    # Smaller models with GPFM's parameter names, for the tool's own tests.
    p.add_argument("--depth", type=int, default=24, help=argparse.SUPPRESS)
    p.add_argument("--dim", type=int, default=1024, help=argparse.SUPPRESS)
    p.add_argument("--heads", type=int, default=16, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def create_model(architecture="auto", depth=24, dim=1024, heads=16):
    """GPFM's architecture from timm, or from tools/gpfm_vit.py (same parameter names)."""
    if architecture == "timm" or (architecture == "auto" and have("timm")):
        import timm
        return timm.create_model(ARCH, pretrained=False, num_classes=0, img_size=INPUT_SIZE,
                                 patch_size=PATCH_SIZE, init_values=1e-5, depth=depth,
                                 embed_dim=dim, num_heads=heads), "timm " + timm.__version__
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import gpfm_vit
    return gpfm_vit.GpfmViT(depth=depth, dim=dim, heads=heads), "tools/gpfm_vit.py (plain torch)"


_CHUNKED_BLOCK = re.compile(r"^blocks\.\d+\.(\d+)\.(.*)$")


def to_timm_state_dict(checkpoint):
    """Returns a timm-layout state dict from either published GPFM checkpoint layout."""
    state = checkpoint
    # Training checkpoints wrap the weights; try the usual containers.
    for key in ("teacher", "student", "model", "state_dict"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            inner = state[key]
            if any(k.startswith(("backbone.", "blocks.", "patch_embed.")) for k in inner):
                state = inner
                break
    if not isinstance(state, dict):
        raise SystemExit("the checkpoint holds no state dict (found %s)" % type(state).__name__)

    if any(k.startswith("backbone.") for k in state):
        # DINOv2 training layout: keep the backbone, drop the heads.
        state = {k[len("backbone."):]: v for k, v in state.items() if k.startswith("backbone.")}
    converted = {}
    for k, v in state.items():
        if k == "mask_token":
            continue  # used only for masked-image training
        m = _CHUNKED_BLOCK.match(k)
        if m:
            # blocks.<chunk>.<i>.x -> blocks.<i>.x (block indices are global across chunks)
            k = "blocks.%s.%s" % (m.group(1), m.group(2))
        converted[k] = v
    return converted


def load_weights(model, path):
    import torch
    # Training checkpoints pickle more than tensors (optimizer state, args): weights_only=False.
    # Only load a checkpoint you trust.
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = to_timm_state_dict(checkpoint)
    # Strict: a key that does not match means a wrong file or a wrong conversion, never ignore it.
    model.load_state_dict(state, strict=True)


def export(model, out_path, device, fp16, check_batch):
    import torch
    dtype = torch.float16 if fp16 else torch.float32
    model = model.to(device=device, dtype=dtype).eval()
    dummy = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE, device=device, dtype=dtype)
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    kwargs = {}
    if "dynamo" in torch.onnx.export.__code__.co_varnames:
        kwargs["dynamo"] = False  # torch >= 2.5 defaults to the dynamo exporter; keep TorchScript
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), out_path,
            input_names=["input"], output_names=["embedding"],
            dynamic_axes={"input": {0: "batch"}, "embedding": {0: "batch"}},
            opset_version=OPSET, do_constant_folding=True, **kwargs)
    return model


def run_onnx_java(out_path, x):
    """Runs the ONNX file on x through ONNX Runtime Java (`slidestream model-run`)."""
    import subprocess
    import tempfile
    import numpy as np
    cli = os.environ.get("SLIDESTREAM_CLI",
                         os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bin",
                                      "slidestream"))
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = os.path.join(tmp, "in.f32"), os.path.join(tmp, "out.f32")
        x.astype("<f4").tofile(inp)
        cmd = cli.split() + ["model-run", "--model", os.path.abspath(out_path), "--input", inp,
                             "--shape", ",".join(str(d) for d in x.shape), "--output", outp]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit("ONNX Runtime Java failed (%s):\n%s%s"
                             % (" ".join(cmd), done.stdout, done.stderr))
        return np.fromfile(outp, dtype="<f4").reshape(x.shape[0], -1)


def check_against_torch(model, out_path, device, fp16, batch, seed):
    """Runs PyTorch and ONNX Runtime on the same random input; returns (max abs diff, D, engine)."""
    import numpy as np
    import torch
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, INPUT_SIZE, INPUT_SIZE, generator=gen)
    dtype = torch.float16 if fp16 else torch.float32
    with torch.no_grad():
        expected = model(x.to(device=device, dtype=dtype)).float().cpu().numpy()
    if not have("onnxruntime"):
        if fp16:
            raise SystemExit("checking a float16 export needs onnxruntime in Python")
        actual = run_onnx_java(out_path, x.numpy())
        if actual.shape != expected.shape:
            raise SystemExit("ONNX Runtime gave shape %s, PyTorch %s" % (actual.shape, expected.shape))
        return float(np.max(np.abs(actual - expected))), int(actual.shape[1]), "ONNX Runtime Java (CPU)"
    import onnxruntime as ort
    providers = ["CPUExecutionProvider"]
    if fp16 and "CUDAExecutionProvider" in ort.get_available_providers():
        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    session = ort.InferenceSession(out_path, providers=providers)
    feed = {session.get_inputs()[0].name: x.numpy().astype(np.float16 if fp16 else np.float32)}
    actual = session.run(None, feed)[0].astype(np.float32)
    if actual.shape != expected.shape:
        raise SystemExit("ONNX Runtime gave shape %s, PyTorch %s" % (actual.shape, expected.shape))
    return float(np.max(np.abs(actual - expected))), int(actual.shape[1]), "ONNX Runtime " + providers[0]


def card_path(out_path):
    stem = out_path[:-5] if out_path.endswith(".onnx") else out_path
    return stem + ".card.json"


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.fp16 and device == "cpu":
        print("warning: --fp16 on the CPU: PyTorch's float16 CPU kernels are slow and less exact;"
              " export on a CUDA device if you can", file=sys.stderr)
    torch.manual_seed(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model, built_by = create_model(args.architecture, args.depth, args.dim, args.heads)
    print("model: %s" % built_by)
    source = None
    if args.random_weights:
        name = args.name or "gpfm-random"
        # The weights the export is made of, in timm's layout, so anyone can recompute PyTorch's
        # side of a comparison.
        weights = (args.out[:-5] if args.out.endswith(".onnx") else args.out) + ".pth"
        torch.save(model.state_dict(), weights)
        source = {"file": os.path.basename(weights), "sha256": sha256_file(weights),
                  "random_seed": args.seed}
        print("wrote the random weights to %s" % weights)
    else:
        name = args.name or "gpfm"
        print("loading %s" % args.weights)
        load_weights(model, args.weights)
        source = {"file": os.path.basename(args.weights), "sha256": sha256_file(args.weights)}

    t0 = time.time()
    model = export(model, args.out, device, args.fp16, args.check_batch)
    print("exported %s in %.1f s" % (args.out, time.time() - t0))

    diff, dim, provider = check_against_torch(
        model, args.out, device, args.fp16, args.check_batch, args.seed)
    print("%s vs PyTorch on random input [%d, 3, %d, %d]: max abs diff %.3g"
          % (provider, args.check_batch, INPUT_SIZE, INPUT_SIZE, diff))

    onnx_sha = sha256_file(args.out)
    card = {
        "name": name,
        "architecture": ARCH,
        "built_by": built_by,
        "timm": {"model": ARCH, "num_classes": 0, "img_size": INPUT_SIZE,
                 "patch_size": PATCH_SIZE, "init_values": 1e-5, "depth": args.depth,
                 "embed_dim": args.dim, "num_heads": args.heads},
        "embedding_dim": dim,
        "embedding": "CLS token after the final LayerNorm",
        "input_size": INPUT_SIZE,
        "input": "input [batch, 3, %d, %d] %s, RGB" % (INPUT_SIZE, INPUT_SIZE,
                                                       "float16" if args.fp16 else "float32"),
        "fp16": bool(args.fp16),
        "normalization": {"mean": IMAGENET_MEAN, "std": IMAGENET_STD, "scale": "1/255",
                          "resize": "PIL bicubic to %dx%d" % (INPUT_SIZE, INPUT_SIZE)},
        "tile": {"target_mpp": args.target_mpp, "tile_px": args.tile_px},
        "source_weights": source,
        "random_weights": bool(args.random_weights),
        "onnx": {"file": os.path.basename(args.out), "sha256": onnx_sha, "opset": OPSET,
                 "dynamic_batch": True},
        "check": {"max_abs_diff_vs_torch": diff, "batch": args.check_batch,
                  "provider": provider},
        "versions": {"torch": torch.__version__},
        "license_note": "GPFM weights are CC-BY-NC-ND 4.0; do not redistribute this file.",
    }
    with open(card_path(args.out), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print("wrote %s (model id %s-%s)" % (card_path(args.out), name, onnx_sha[:12]))
    tolerance = 1e-2 if args.fp16 else 1e-3
    if diff > tolerance:
        print("error: ONNX Runtime differs from PyTorch by %.3g (> %g)" % (diff, tolerance),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
