"""Tests of tools/export_onnx.py with small models that carry GPFM's parameter names.

Run with the system Python (Debian's python3-torch and python3-onnx):
    SLIDESTREAM_CLI="java -cp cli/target/slidestream-cli.jar:cli/target/lib/* io.slidestream.cli.SlideStreamCli" \
        /usr/bin/python3 -m unittest discover -s tools -p 'test_*.py'
`make test` runs them (ExportToolITCase). No 1 GB file: depth 2, width 64.
"""

import json
import os
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_onnx  # noqa: E402
import gpfm_vit  # noqa: E402

SMALL = dict(depth=2, dim=64, heads=4)


def small_model(seed):
    torch.manual_seed(seed)
    return gpfm_vit.GpfmViT(**SMALL).eval()


class CheckpointLayouts(unittest.TestCase):
    def test_the_plain_torch_model_has_timms_parameter_names(self):
        names = set(small_model(0).state_dict())
        for name in ["patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token", "pos_embed",
                     "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
                     "blocks.0.attn.proj.weight", "blocks.0.ls1.gamma", "blocks.0.norm2.bias",
                     "blocks.1.mlp.fc1.weight", "blocks.1.mlp.fc2.bias", "blocks.1.ls2.gamma",
                     "norm.weight", "norm.bias"]:
            self.assertIn(name, names)
        self.assertEqual(small_model(0).state_dict()["pos_embed"].shape, (1, 257, 64))
        self.assertEqual(small_model(0).state_dict()["blocks.0.attn.qkv.weight"].shape, (192, 64))

    def test_a_timm_layout_state_dict_loads_strictly(self):
        source = small_model(1)
        state = export_onnx.to_timm_state_dict(source.state_dict())
        target = small_model(2)
        target.load_state_dict(state, strict=True)
        x = torch.randn(2, 3, 224, 224)
        with torch.no_grad():
            self.assertTrue(torch.equal(source(x), target(x)))

    def test_a_dinov2_training_checkpoint_loads_strictly(self):
        source = small_model(3)
        backbone = {}
        for key, value in source.state_dict().items():
            if key.startswith("blocks."):
                # DINOv2 training checkpoints chunk the blocks: blocks.<chunk>.<i>.
                _, index, rest = key.split(".", 2)
                key = "blocks.0.%s.%s" % (index, rest)
            backbone["backbone." + key] = value
        backbone["backbone.mask_token"] = torch.zeros(1, 64)
        checkpoint = {"teacher": dict(backbone, **{"dino_head.mlp.0.weight": torch.zeros(8, 64)})}
        target = small_model(4)
        target.load_state_dict(export_onnx.to_timm_state_dict(checkpoint), strict=True)
        x = torch.randn(1, 3, 224, 224)
        with torch.no_grad():
            self.assertTrue(torch.equal(source(x), target(x)))

    def test_a_key_that_does_not_match_is_refused(self):
        state = small_model(5).state_dict()
        state["blocks.0.attn.qkv_typo.weight"] = state.pop("blocks.0.attn.qkv.weight")
        with self.assertRaises(RuntimeError):
            small_model(6).load_state_dict(export_onnx.to_timm_state_dict(state), strict=True)


class Export(unittest.TestCase):
    def test_random_weights_export_writes_the_weights_and_checks_through_onnx_runtime(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "small.onnx")
            code = export_onnx.main(["--random-weights", "--out", out, "--architecture", "torch",
                                     "--depth", "2", "--dim", "64", "--heads", "4", "--seed", "7"])
            self.assertEqual(code, 0)
            with open(os.path.join(tmp, "small.card.json")) as f:
                card = json.load(f)
            self.assertEqual(card["embedding_dim"], 64)
            self.assertLess(card["check"]["max_abs_diff_vs_torch"], 1e-4)
            self.assertIn("plain torch", card["built_by"])
            # The written weights are the exported model's: loading them reproduces its output.
            weights = torch.load(os.path.join(tmp, "small.pth"))
            model = small_model(8)
            model.load_state_dict(weights, strict=True)
            self.assertEqual(card["source_weights"]["file"], "small.pth")
            x = torch.randn(1, 3, 224, 224)
            onnx_out = export_onnx.run_onnx_java(out, x.numpy())
            with torch.no_grad():
                diff = (model(x) - torch.from_numpy(onnx_out)).abs().max().item()
            self.assertLess(diff, 1e-4)


if __name__ == "__main__":
    unittest.main()
