"""GPFM's architecture (a DINOv2 ViT-L/14) in plain PyTorch, for machines without timm.

Parameter names and shapes follow timm's `vit_large_patch14_dinov2` (num_classes=0, img_size=224,
init_values=1e-5), so the same state dict loads strictly into either definition:

    patch_embed.proj.{weight,bias}   cls_token   pos_embed
    blocks.N.norm1.{weight,bias}     blocks.N.attn.qkv.{weight,bias}   blocks.N.attn.proj.{weight,bias}
    blocks.N.ls1.gamma               blocks.N.norm2.{weight,bias}
    blocks.N.mlp.fc1.{weight,bias}   blocks.N.mlp.fc2.{weight,bias}    blocks.N.ls2.gamma
    norm.{weight,bias}

The forward pass is timm's for this configuration: patches + CLS token + learned position
embedding, pre-norm blocks with LayerScale, exact (erf) GELU, LayerNorm eps 1e-6, and the CLS token
after the final norm as the embedding. Written against torch 1.13 (Debian's python3-torch).
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

EMBED_DIM = 1024
DEPTH = 24
HEADS = 16
MLP_RATIO = 4
PATCH_SIZE = 14
IMG_SIZE = 224
INIT_VALUES = 1e-5


class PatchEmbed(nn.Module):
    def __init__(self, dim, patch_size):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * (c // self.heads) ** -0.5) @ k.transpose(-2, -1)
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


class LayerScale(nn.Module):
    def __init__(self, dim, init_values):
        super().__init__()
        self.gamma = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio, init_values):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.ls1 = LayerScale(dim, init_values)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, dim * mlp_ratio)
        self.ls2 = LayerScale(dim, init_values)

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        return x + self.ls2(self.mlp(self.norm2(x)))


class GpfmViT(nn.Module):
    """The ViT; `depth`, `dim` and `heads` are GPFM's by default (smaller ones for tests)."""

    def __init__(self, depth=DEPTH, dim=EMBED_DIM, heads=HEADS, img_size=IMG_SIZE,
                 patch_size=PATCH_SIZE, mlp_ratio=MLP_RATIO, init_values=INIT_VALUES):
        super().__init__()
        patches = (img_size // patch_size) ** 2
        self.patch_embed = PatchEmbed(dim, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, dim))
        self.blocks = nn.ModuleList(
            [Block(dim, heads, mlp_ratio, init_values) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        # timm initialises position embeddings and tokens with small normal noise.
        nn.init.normal_(self.pos_embed, std=0.02)
        nn.init.normal_(self.cls_token, std=1e-6)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                bound = math.sqrt(6.0 / (m.in_features + m.out_features))
                nn.init.uniform_(m.weight, -bound, bound)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.norm(x)[:, 0]
