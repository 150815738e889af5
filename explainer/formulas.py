"""The cost formulas as LaTeX, symbolic and with the current numbers substituted.

The results printed on the right-hand side always come from
:mod:`explainer.costs`, so the formula shown and the number computed can
never disagree. Used by the cost page and by the architecture page when a
layer is selected.
"""

from __future__ import annotations

from dataclasses import dataclass

from explainer import costs


@dataclass(frozen=True)
class Formula:
    """MACs and params of one layer (or block) as LaTeX."""

    macs_symbolic: str
    macs_numbers: str
    params_symbolic: str
    params_numbers: str


def number(value: int | float) -> str:
    """A number with thin-space-free LaTeX thousands separators: ``462{,}422{,}016``."""
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return f"{int(value):,}".replace(",", "{,}")


def _product(*factors: int) -> str:
    return r" \cdot ".join(number(f) for f in factors)


_DG = r"D_G"  # output size ceil(D_F / s)


def aligned(quantity: str, symbolic: str, numbers: str) -> str:
    """Two aligned lines: ``quantity = symbolic`` then ``= numbers`` (long formulas stay on screen)."""
    return rf"\begin{{aligned}} \text{{{quantity}}} &= {symbolic} \\ &= {numbers} \end{{aligned}}"


def output_size_note(d_f: int, stride: int) -> str:
    """``D_G = \\lceil D_F / s \\rceil`` with numbers."""
    return rf"D_G = \left\lceil \frac{{D_F}}{{s}} \right\rceil = \left\lceil \frac{{{d_f}}}{{{stride}}} \right\rceil = {costs.output_size(d_f, stride)}"


def standard(d_k: int, m: int, n: int, d_f: int, stride: int = 1, bias: bool = False) -> Formula:
    cost = costs.standard_conv(d_k, m, n, d_f, stride, bias)
    d_g = costs.output_size(d_f, stride)
    bias_sym, bias_num = (" + N", f" + {number(n)}") if bias else ("", "")
    return Formula(
        macs_symbolic=rf"D_K \cdot D_K \cdot M \cdot N \cdot {_DG} \cdot {_DG}",
        macs_numbers=rf"{_product(d_k, d_k, m, n, d_g, d_g)} = {number(cost.macs)}",
        params_symbolic=rf"D_K \cdot D_K \cdot M \cdot N{bias_sym}",
        params_numbers=rf"{_product(d_k, d_k, m, n)}{bias_num} = {number(cost.params)}",
    )


def depthwise(d_k: int, m: int, d_f: int, stride: int = 1, bias: bool = False) -> Formula:
    cost = costs.depthwise_conv(d_k, m, d_f, stride, bias)
    d_g = costs.output_size(d_f, stride)
    bias_sym, bias_num = (" + M", f" + {number(m)}") if bias else ("", "")
    return Formula(
        macs_symbolic=rf"D_K \cdot D_K \cdot M \cdot {_DG} \cdot {_DG}",
        macs_numbers=rf"{_product(d_k, d_k, m, d_g, d_g)} = {number(cost.macs)}",
        params_symbolic=rf"D_K \cdot D_K \cdot M{bias_sym}",
        params_numbers=rf"{_product(d_k, d_k, m)}{bias_num} = {number(cost.params)}",
    )


def pointwise(m: int, n: int, d_f: int, bias: bool = False) -> Formula:
    """A 1×1 convolution at ``d_f × d_f`` (for a block's projection pass the output size)."""
    cost = costs.pointwise_conv(m, n, d_f, bias)
    bias_sym, bias_num = (" + N", f" + {number(n)}") if bias else ("", "")
    return Formula(
        macs_symbolic=r"M \cdot N \cdot D \cdot D",
        macs_numbers=rf"{_product(m, n, d_f, d_f)} = {number(cost.macs)}",
        params_symbolic=rf"M \cdot N{bias_sym}",
        params_numbers=rf"{_product(m, n)}{bias_num} = {number(cost.params)}",
    )


def linear(in_features: int, out_features: int, bias: bool = True) -> Formula:
    cost = costs.linear(in_features, out_features, bias)
    bias_sym, bias_num = (r" + N_{out}", f" + {number(out_features)}") if bias else ("", "")
    return Formula(
        macs_symbolic=r"N_{in} \cdot N_{out}",
        macs_numbers=rf"{_product(in_features, out_features)} = {number(cost.macs)}",
        params_symbolic=rf"N_{{in}} \cdot N_{{out}}{bias_sym}",
        params_numbers=rf"{_product(in_features, out_features)}{bias_num} = {number(cost.params)}",
    )


def separable(d_k: int, m: int, n: int, d_f: int, stride: int = 1) -> Formula:
    cost = costs.depthwise_separable(d_k, m, n, d_f, stride)
    d_g = costs.output_size(d_f, stride)
    return Formula(
        macs_symbolic=rf"D_K \cdot D_K \cdot M \cdot {_DG} \cdot {_DG} + M \cdot N \cdot {_DG} \cdot {_DG}",
        macs_numbers=rf"{_product(d_k, d_k, m, d_g, d_g)} + {_product(m, n, d_g, d_g)} = {number(cost.macs)}",
        params_symbolic=r"D_K \cdot D_K \cdot M + M \cdot N",
        params_numbers=rf"{_product(d_k, d_k, m)} + {_product(m, n)} = {number(cost.params)}",
    )


def inverted_residual(d_k: int, m: int, n: int, d_f: int, t: int, stride: int = 1) -> Formula:
    """Expand (at ``D_F``, skipped for t = 1) + depthwise + project (at ``D_G``)."""
    cost = costs.inverted_residual(d_k, m, n, d_f, t, stride)
    d_g = costs.output_size(d_f, stride)
    hidden = cost.hidden
    dw_macs = rf"D_K \cdot D_K \cdot tM \cdot {_DG} \cdot {_DG}"
    pr_macs = rf"tM \cdot N \cdot {_DG} \cdot {_DG}"
    dw_num = _product(d_k, d_k, hidden, d_g, d_g)
    pr_num = _product(hidden, n, d_g, d_g)
    if cost.expand is None:
        macs_sym, macs_num = f"{dw_macs} + {pr_macs}", f"{dw_num} + {pr_num}"
        params_sym = r"D_K \cdot D_K \cdot tM + tM \cdot N"
        params_num = f"{_product(d_k, d_k, hidden)} + {_product(hidden, n)}"
    else:
        macs_sym = rf"M \cdot tM \cdot D_F \cdot D_F + {dw_macs} + {pr_macs}"
        macs_num = f"{_product(m, hidden, d_f, d_f)} + {dw_num} + {pr_num}"
        params_sym = r"M \cdot tM + D_K \cdot D_K \cdot tM + tM \cdot N"
        params_num = f"{_product(m, hidden)} + {_product(d_k, d_k, hidden)} + {_product(hidden, n)}"
    return Formula(
        macs_symbolic=macs_sym,
        macs_numbers=rf"{macs_num} = {number(cost.macs)}",
        params_symbolic=params_sym,
        params_numbers=rf"{params_num} = {number(cost.params)}",
    )


def ratio(d_k: int, m: int, n: int, d_f: int, stride: int = 1) -> tuple[str, str]:
    """The separable/standard MAC ratio: symbolic, and with numbers (exact fraction and 1/N + 1/D_K²)."""
    separable_macs = costs.depthwise_separable(d_k, m, n, d_f, stride).macs
    standard_macs = costs.standard_conv(d_k, m, n, d_f, stride).macs
    exact = float(costs.separable_ratio_exact(d_k, m, n, d_f, stride))
    approx = costs.separable_ratio_approx(d_k, n)
    symbolic = r"\frac{D_K^2 M D_G^2 + M N D_G^2}{D_K^2 M N D_G^2} = \frac{1}{N} + \frac{1}{D_K^2}"
    numbers = (
        rf"\frac{{{number(separable_macs)}}}{{{number(standard_macs)}}} = {exact:.6f}"
        rf" \qquad \frac{{1}}{{{n}}} + \frac{{1}}{{{d_k * d_k}}} = {approx:.6f}"
    )
    return symbolic, numbers
