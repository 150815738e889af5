"""Each family's key block for one shape the student sets, costed with the cost engine (:mod:`explainer.costs`).

The student sets the cost calculator's inputs (D_K, M, N, D_F, t, stride; validated by
:class:`explainer.costs.CostInputs`, α and ρ applied); each family turns them into its own block the way its
networks do:

* **Fire** (SqueezeNet): squeeze to s = max(1, N // 8) channels, expand to N // 2 (1×1) and N − N // 2 (3×3),
  as SqueezeNet's fire modules (s : e1 : e3 = 1 : 4 : 4). A Fire module has no stride (SqueezeNet
  downsamples with max pooling between modules), so it runs at D_F.
* **ShuffleNet V2 unit**: N rounded up to even; a stride-1 unit keeps its channels, so it takes N in and out
  (M is not used); a stride-2 unit maps M → N. Kernel 3×3 (fixed in ShuffleNet V2).
* **Inverted residual** (MobileNetV2, MnasNet): expand t·M, depthwise D_K×D_K /s, project to N.
* **MBConv with SE** (EfficientNet, MobileNetV3): the same with squeeze-and-excitation on the expanded map,
  squeeze width max(1, M // 4) as EfficientNet.
"""

from __future__ import annotations

from explainer import costs
from explainer.costs import BlockCost, CostInputs

#: Block keys in the order the page shows them, with the family that made each famous.
BLOCKS: tuple[str, ...] = ("fire", "shufflenet_v2", "inverted_residual", "mbconv_se")
BLOCK_FAMILY: dict[str, str] = {"fire": "squeezenet", "shufflenet_v2": "shufflenet_v2",
                                "inverted_residual": "mobilenet", "mbconv_se": "efficientnet"}


def key_blocks(inputs: CostInputs) -> dict[str, BlockCost]:
    """The four key blocks for the student's (validated) inputs, after α and ρ."""
    m, n, d_f, k, t, s = (inputs.effective_m, inputs.effective_n, inputs.effective_d_f, inputs.d_k, inputs.t,
                          inputs.stride)
    squeeze = max(1, n // 8)
    even = n + (n % 2)
    return {
        "fire": costs.fire_module(m, squeeze, max(1, n // 2), max(1, n - n // 2), d_f),
        "shufflenet_v2": costs.shufflenet_v2_unit(even if s == 1 else m, even, d_f, s),
        "inverted_residual": costs.mbconv(k, m, n, d_f, t, s),
        "mbconv_se": costs.mbconv(k, m, n, d_f, t, s, se_squeeze=max(1, m // 4)),
    }


def standard_reference(inputs: CostInputs) -> costs.Cost:
    """A plain D_K×D_K convolution M → N /s for the same shape (the cost page's "standard")."""
    return costs.standard_conv(inputs.d_k, inputs.effective_m, inputs.effective_n, inputs.effective_d_f,
                               inputs.stride)
