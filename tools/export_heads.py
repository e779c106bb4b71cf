#!/usr/bin/env python3
"""Export the two heads SlideStream runs on GPFM embeddings, at any D, from random weights or
from a state dict, in the contract the job reads:

  tile head   input "embedding" [batch, D] float32 -> "probabilities" [batch, C] (softmax)
  slide head  input "features" [tiles, D] float32 -> "logits" [1, K], "attention" [1, tiles]
              (gated attention MIL, ABMIL: Ilse et al. 2018)

    /usr/bin/python3 tools/export_heads.py --dim 1024 --out-dir models/heads-1024

Random weights make the pipeline run at the real size (shapes, memory, speed); their predictions
are meaningless. Needs torch and onnx only (Debian's python3-torch, python3-onnx).
"""

import argparse
import os
import sys

import torch
from torch import nn


class TileHead(nn.Module):
    def __init__(self, dim, classes):
        super().__init__()
        self.fc = nn.Linear(dim, classes)

    def forward(self, embedding):
        return torch.softmax(self.fc(embedding), dim=-1)


class Abmil(nn.Module):
    def __init__(self, dim, hidden, classes):
        super().__init__()
        self.attention_v = nn.Linear(dim, hidden)
        self.attention_u = nn.Linear(dim, hidden)
        self.attention_w = nn.Linear(hidden, 1)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, features):
        gate = torch.tanh(self.attention_v(features)) * torch.sigmoid(self.attention_u(features))
        attention = torch.softmax(self.attention_w(gate).transpose(0, 1), dim=1)  # [1, tiles]
        slide = attention @ features  # [1, D]
        return self.classifier(slide), attention


def main(argv=None):
    p = argparse.ArgumentParser(description="Export SlideStream's tile and slide heads to ONNX.")
    p.add_argument("--dim", type=int, default=1024, help="embedding dimension D (GPFM: 1024)")
    p.add_argument("--tissue-classes", type=int, default=9, help="tile head classes")
    p.add_argument("--slide-classes", type=int, default=2, help="slide head classes")
    p.add_argument("--hidden", type=int, default=256, help="ABMIL attention width")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", required=True)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    torch.manual_seed(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    tile = TileHead(args.dim, args.tissue_classes).eval()
    slide = Abmil(args.dim, args.hidden, args.slide_classes).eval()
    tile_path = os.path.join(args.out_dir, "tissue-head-d%d.onnx" % args.dim)
    slide_path = os.path.join(args.out_dir, "abmil-d%d.onnx" % args.dim)
    with torch.no_grad():
        torch.onnx.export(tile, (torch.zeros(2, args.dim),), tile_path,
                          input_names=["embedding"], output_names=["probabilities"],
                          dynamic_axes={"embedding": {0: "batch"}, "probabilities": {0: "batch"}},
                          opset_version=17)
        torch.onnx.export(slide, (torch.zeros(5, args.dim),), slide_path,
                          input_names=["features"], output_names=["logits", "attention"],
                          dynamic_axes={"features": {0: "tiles"}, "attention": {1: "tiles"}},
                          opset_version=17)
    torch.save(tile.state_dict(), tile_path[:-5] + ".pth")
    torch.save(slide.state_dict(), slide_path[:-5] + ".pth")
    print("wrote %s and %s (random weights, seed %d)" % (tile_path, slide_path, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
