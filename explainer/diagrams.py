"""Block diagrams as Graphviz DOT text (rendered by ``st.graphviz_chart``).

The functions take the already-translated labels so the same drawing
serves every language.
"""

from __future__ import annotations

from typing import Mapping

_STYLE = (
    'graph [rankdir=LR, bgcolor="transparent", fontname="Helvetica"];\n'
    'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, fillcolor="#eef3fb", color="#4a6fa5"];\n'
    'edge [color="#555555", fontname="Helvetica", fontsize=10];\n'
)


def _quote(text: str) -> str:
    return '"' + text.replace('"', r"\"") + '"'


def _chain(nodes: list[tuple[str, str, str]]) -> str:
    lines = [f"{name} [label={_quote(label)}, fillcolor={_quote(color)}];" for name, label, color in nodes]
    lines.append(" -> ".join(name for name, _, _ in nodes) + ";")
    return "\n".join(lines)


def standard_block(labels: Mapping[str, str]) -> str:
    """Input → full D_K×D_K convolution → BN → ReLU → output."""
    return "digraph standard {\n" + _STYLE + _chain([
        ("x", labels["input"], "#ffffff"),
        ("conv", labels["conv"], "#f6d5d5"),
        ("y", labels["output"], "#ffffff"),
    ]) + "\n}"


def separable_block(labels: Mapping[str, str]) -> str:
    """MobileNetV1: depthwise D_K×D_K (+BN+ReLU) → pointwise 1×1 (+BN+ReLU)."""
    return "digraph separable {\n" + _STYLE + _chain([
        ("x", labels["input"], "#ffffff"),
        ("dw", labels["depthwise"], "#d9ecd0"),
        ("pw", labels["pointwise"], "#d5e3f6"),
        ("y", labels["output"], "#ffffff"),
    ]) + "\n}"


def inverted_residual_block(labels: Mapping[str, str]) -> str:
    """MobileNetV2: expand 1×1 (ReLU6) → depthwise (ReLU6) → linear 1×1 → add shortcut."""
    body = _chain([
        ("x", labels["input"], "#ffffff"),
        ("ex", labels["expand"], "#fbe3c4"),
        ("dw", labels["depthwise"], "#d9ecd0"),
        ("pr", labels["project"], "#e4dcf5"),
        ("add", labels["add"], "#ffffff"),
        ("y", labels["output"], "#ffffff"),
    ])
    shortcut = f'x -> add [style=dashed, constraint=false, label={_quote(labels["shortcut"])}];'
    return "digraph inverted {\n" + _STYLE + body + "\n" + shortcut + "\n}"
