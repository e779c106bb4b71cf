#!/usr/bin/env python3
"""Trains SlideStream's slide head, a gated ABMIL, on TRIDENT-layout feature bags.

    train   --bags DIR --labels labels.json --out DIR [--folds K] [--seed S] [--epochs E]
    forward --bags DIR --head head.pt --out outputs.json   (the trained head's own forward pass)

labels.json: {"classes": [name, ...], "slides": {"<file>.h5": class_index, ...}}, written by
`bin/slidestream heads train` after it has checked the labels against the store. `train` reports
stratified K-fold cross-validation on out-of-fold predictions (balanced accuracy, one-vs-rest
AUROC, confusion matrix, 95% bootstrap intervals), fits the final head on every slide and writes
head.onnx (input "features" [tiles, D]; outputs "logits" [1, C] and "attention" [1, tiles]),
head.pt (its state dict) and metrics.json into --out.

The recipe is TRIDENT's ABMIL tutorial: a linear layer and ReLU before a gated attention
(tanh * sigmoid), a linear classifier on the attention-pooled bag, Adam, 20 epochs, one bag per
step with at most 512 tiles sampled from it. Needs torch, onnx, h5py and numpy (Debian's
python3-torch, python3-onnx, python3-h5py).
"""

import argparse
import json
import os
import sys
import time

import h5py
import numpy as np
import torch
from torch import nn


class GatedAbmil(nn.Module):
    def __init__(self, dim, classes, hidden=256, attention=128, dropout=0.25):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout))
        self.attention_v = nn.Linear(hidden, attention)
        self.attention_u = nn.Linear(hidden, attention)
        self.attention_w = nn.Linear(attention, 1)
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, features):
        h = self.embed(features)  # [tiles, hidden]
        gate = torch.tanh(self.attention_v(h)) * torch.sigmoid(self.attention_u(h))
        attention = torch.softmax(self.attention_w(gate).transpose(0, 1), dim=1)  # [1, tiles]
        return self.classifier(attention @ h), attention


def read_bag(path):
    with h5py.File(path, "r") as f:
        return torch.from_numpy(np.asarray(f["features"], dtype=np.float32))


def stratified_folds(labels, k, rng):
    """Fold index per slide: each class's slides shuffled and dealt round-robin over the folds."""
    fold = np.zeros(len(labels), dtype=np.int64)
    offset = 0
    for c in sorted(set(labels)):
        idx = np.flatnonzero(np.asarray(labels) == c)
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = (offset + j) % k
        offset += len(idx)
    return fold


def train(bags, labels, dim, classes, args, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = GatedAbmil(dim, classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    last = 0.0
    for _ in range(args.epochs):
        model.train()
        total = 0.0
        for i in rng.permutation(len(bags)):
            bag = bags[i]
            if bag.shape[0] > args.bag_size:
                bag = bag[torch.from_numpy(rng.choice(bag.shape[0], args.bag_size, replace=False))]
            logits, _ = model(bag)
            loss = loss_fn(logits, torch.tensor([labels[i]]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss)
        last = total / len(bags)
    model.eval()
    return model, last


def predict(model, bags):
    with torch.no_grad():
        return np.stack([torch.softmax(model(b)[0], dim=1)[0].numpy() for b in bags])


def auroc_binary(scores, positive):
    """Mann-Whitney AUROC with ties counted half; None when a side is empty."""
    pos = scores[positive]
    neg = scores[~positive]
    if len(pos) == 0 or len(neg) == 0:
        return None
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def metrics(y, prob, classes):
    pred = prob.argmax(axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for t, p in zip(y, pred):
        confusion[t, p] += 1
    recalls = [confusion[c, c] / confusion[c].sum() for c in range(classes) if confusion[c].sum()]
    per_class = [auroc_binary(prob[:, c], y == c) for c in range(classes)]
    aucs = [a for a in per_class if a is not None]
    if classes == 2:
        auroc = per_class[1]
    else:
        auroc = float(np.mean(aucs)) if len(aucs) == classes else None
    return {
        "balanced_accuracy": float(np.mean(recalls)),
        "accuracy": float((pred == y).mean()),
        "auroc": auroc,
        "auroc_per_class": per_class,
        "confusion_matrix": confusion.tolist(),
    }


def bootstrap(y, prob, classes, rng, rounds=1000):
    ba, auc = [], []
    n = len(y)
    for _ in range(rounds):
        idx = rng.integers(0, n, n)
        if len(set(y[idx].tolist())) < classes:
            continue  # a resample without every class has no AUROC
        m = metrics(y[idx], prob[idx], classes)
        ba.append(m["balanced_accuracy"])
        if m["auroc"] is not None:
            auc.append(m["auroc"])

    def interval(values):
        if not values:
            return None
        return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]

    return {"balanced_accuracy_95ci": interval(ba), "auroc_95ci": interval(auc),
            "bootstrap_rounds": rounds, "bootstrap_used": len(ba)}


def cmd_train(args):
    with open(args.labels) as f:
        spec = json.load(f)
    names = sorted(spec["slides"])
    classes = len(spec["classes"])
    y = np.asarray([spec["slides"][n] for n in names], dtype=np.int64)
    bags = [read_bag(os.path.join(args.bags, n)) for n in names]
    dim = bags[0].shape[1]
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, args.threads)))
    started = time.time()
    rng = np.random.default_rng(args.seed)
    fold = stratified_folds(y.tolist(), args.folds, rng)
    oof = np.zeros((len(names), classes), dtype=np.float64)
    for k in range(args.folds):
        train_idx = np.flatnonzero(fold != k)
        test_idx = np.flatnonzero(fold == k)
        if len(test_idx) == 0:
            continue
        model, _ = train([bags[i] for i in train_idx], y[train_idx].tolist(), dim, classes, args,
                         args.seed + 1 + k)
        oof[test_idx] = predict(model, [bags[i] for i in test_idx])
    cv = metrics(y, oof, classes)
    cv.update(bootstrap(y, oof, classes, np.random.default_rng(args.seed)))
    cv["folds"] = args.folds
    cv["out_of_fold"] = {n: oof[i].tolist() for i, n in enumerate(names)}
    model, final_loss = train(bags, y.tolist(), dim, classes, args, args.seed)
    os.makedirs(args.out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.out, "head.pt"))
    with torch.no_grad():
        torch.onnx.export(model, (bags[0],), os.path.join(args.out, "head.onnx"),
                          input_names=["features"], output_names=["logits", "attention"],
                          dynamic_axes={"features": {0: "tiles"}, "attention": {1: "tiles"}},
                          opset_version=17)
    result = {
        "cross_validation": cv,
        "final_training_loss": final_loss,
        "training_seconds": time.time() - started,
        "recipe": {"model": "gated ABMIL", "hidden": 256, "attention": 128, "dropout": 0.25,
                   "optimiser": "Adam", "lr": args.lr, "weight_decay": args.weight_decay,
                   "epochs": args.epochs, "bag_size": args.bag_size},
        "framework": "torch " + torch.__version__,
        "dimension": dim,
    }
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(result, f, indent=1)
    return 0


def cmd_forward(args):
    state = torch.load(args.head, map_location="cpu")
    dim = state["embed.0.weight"].shape[1]
    classes = state["classifier.weight"].shape[0]
    model = GatedAbmil(dim, classes)
    model.load_state_dict(state)
    model.eval()
    out = {}
    with torch.no_grad():
        for name in sorted(os.listdir(args.bags)):
            if name.endswith(".h5"):
                logits, attention = model(read_bag(os.path.join(args.bags, name)))
                out[name] = {"logits": logits[0].tolist(), "attention": attention[0].tolist()}
    with open(args.out, "w") as f:
        json.dump(out, f)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--bags", required=True)
    t.add_argument("--labels", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--folds", type=int, default=5)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument("--bag-size", type=int, default=512)
    t.add_argument("--lr", type=float, default=1e-4)
    t.add_argument("--weight-decay", type=float, default=1e-5)
    t.add_argument("--threads", type=int, default=4)
    f = sub.add_parser("forward")
    f.add_argument("--bags", required=True)
    f.add_argument("--head", required=True)
    f.add_argument("--out", required=True)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    return cmd_train(args) if args.command == "train" else cmd_forward(args)


if __name__ == "__main__":
    sys.exit(main())
