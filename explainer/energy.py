"""Energy per inference: what one photo costs the battery, estimated from MACs and bytes moved.

One table of energies per operation (:data:`OPERATIONS`) with its sources, and an estimate for any network
the app offers (the MobileNets at any width α and resolution, and the lightweight family):

    energy = MACs × (energy of one MAC in the number format) + bytes moved × (energy of one byte where it lives)

* **MACs and bytes** come from the exact counter (:func:`explainer.zoo.network.count_network`: one pass on
  the meta device; each layer reads its input and its weights once and writes its output once). The counter
  counts *elements*; a number format stores each in 4 (float32), 2 (float16) or 1 (int8) bytes.
* **Energies** are Horowitz's 45 nm figures (ISSCC 2014, 0.9 V). One MAC is a multiply plus an add in the
  same format, except int8, whose products are summed in a 32-bit integer accumulator (as int8 kernels do):
  8-bit multiply + 32-bit add. A byte in DRAM costs the lower end of Horowitz's 64-bit DRAM access
  (1.3–2.6 nJ) / 8; a byte "on chip" costs a 64-bit read of a 1 MB SRAM / 8.
* **Where data lives** is a switch for weights and one for activations: in DRAM (every byte fetched from
  DRAM on every photo: the pessimistic end) or on chip (they stay in SRAM between layers and photos: the
  optimistic end, true only if they fit).

Everything left out is listed in :data:`ASSUMPTIONS` (the page shows them): no instruction fetch and
decode, no caches and their misses, no idle or display power, batch norm / activations / pooling cost
nothing, writes cost what reads cost. Exact arithmetic: energies are :class:`fractions.Fraction` in pJ, so
the int8 compute energy is the float32 one × (int8 MAC / float32 MAC) exactly; floats only for display.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from explainer.errors import InvalidInputError

HOROWITZ = ("M. Horowitz, \"Computing's energy problem (and what we can do about it)\", "
            "ISSCC 2014, 45 nm, 0.9 V")
EYERISS = ("Y.-H. Chen, J. Emer, V. Sze, \"Eyeriss: a spatial architecture for energy-efficient dataflow for "
           "convolutional neural networks\", ISCA 2016 (65 nm); V. Sze et al., \"Efficient processing of deep "
           "neural networks: a tutorial and survey\", Proc. IEEE 2017")
DEEPEN = ("X. Tu, A. Mallik, H. Wang, J. Xie et al., \"DeepEn2023: energy datasets for edge artificial "
          "intelligence\", 2023 (measured on phones)")


@dataclass(frozen=True)
class Operation:
    """One row of Horowitz's table: energy of one operation in pJ."""

    key: str  # stable code (locale key energy.op_<key>)
    pj: Fraction
    kind: str  # "compute" or "memory"
    bits: int  # operand width (memory: bits per access)
    note: str = ""  # "low end of 1,300–2,600" …


def _pj(text: str) -> Fraction:
    return Fraction(text)


#: Horowitz, ISSCC 2014, 45 nm: energy per operation (memory rows per 64-bit access).
OPERATIONS: tuple[Operation, ...] = (
    Operation("int8_add", _pj("0.03"), "compute", 8),
    Operation("int32_add", _pj("0.1"), "compute", 32),
    Operation("int8_mult", _pj("0.2"), "compute", 8),
    Operation("int32_mult", _pj("3.1"), "compute", 32),
    Operation("fp16_add", _pj("0.4"), "compute", 16),
    Operation("fp32_add", _pj("0.9"), "compute", 32),
    Operation("fp16_mult", _pj("1.1"), "compute", 16),
    Operation("fp32_mult", _pj("3.7"), "compute", 32),
    Operation("sram_8kb", _pj("10"), "memory", 64),
    Operation("sram_32kb", _pj("20"), "memory", 64),
    Operation("sram_1mb", _pj("100"), "memory", 64),
    Operation("dram", _pj("1300"), "memory", 64, note="1300-2600"),
)
OPS: dict[str, Operation] = {op.key: op for op in OPERATIONS}

#: Eyeriss (Chen, Emer, Sze): energy of one data access relative to one MAC, by where the data comes from.
LADDER: tuple[tuple[str, int], ...] = (("rf", 1), ("pe", 2), ("buffer", 6), ("dram", 200))

#: Number formats: bytes per stored value, and the operations of one MAC (multiply, accumulate).
DTYPES: tuple[str, ...] = ("fp32", "fp16", "int8")
BYTES_PER_VALUE: dict[str, int] = {"fp32": 4, "fp16": 2, "int8": 1}
MAC_OPS: dict[str, tuple[str, str]] = {
    "fp32": ("fp32_mult", "fp32_add"),
    "fp16": ("fp16_mult", "fp16_add"),
    "int8": ("int8_mult", "int32_add"),  # 8-bit products summed in a 32-bit accumulator
}
#: Where a byte lives and which table row it costs (one 64-bit access = 8 bytes).
PLACES: dict[str, str] = {"dram": "dram", "on_chip": "sram_1mb"}

#: Every assumption of the estimate (locale keys energy.assume_<key>; the page lists them all).
ASSUMPTIONS: tuple[str, ...] = ("node", "mac", "traffic", "dram", "on_chip", "format", "left_out", "writes")

#: Measured energy per inference on phones (DeepEn2023): MobileNetV2 variants, mJ (low, high).
MEASURED_PHONE_MJ: dict[str, tuple[float, float]] = {"cpu": (30.9, 175.0), "gpu": (8.8, 48.4)}
#: Photos per second of a live camera view.
CAMERA_FPS = 30


def mac_pj(dtype: str) -> Fraction:
    """Energy of one multiply-accumulate in ``dtype``, pJ (multiply + accumulate)."""
    mult, add = MAC_OPS[_check_dtype(dtype)]
    return OPS[mult].pj + OPS[add].pj


def byte_pj(place: str) -> Fraction:
    """Energy of moving one byte from/to ``place`` ("dram" or "on_chip"), pJ (a 64-bit access / 8)."""
    return OPS[PLACES[place]].pj / 8


def _check_dtype(dtype: object) -> str:
    if dtype not in DTYPES:
        raise InvalidInputError("energy.bad_dtype", value=dtype, choices=", ".join(DTYPES))
    return str(dtype)


@dataclass(frozen=True)
class Estimate:
    """Energy of one inference of one network, split into compute and memory (pJ kept exact)."""

    model: str
    width: float | None
    resolution: int
    dtype: str
    weights_on_chip: bool
    activations_on_chip: bool
    macs: int
    weight_elements: int  # weight + bias values read (every layer, every call)
    activation_elements: int  # activation values read and written
    mac_pj: Fraction
    weight_byte_pj: Fraction
    activation_byte_pj: Fraction

    @property
    def bytes_per_value(self) -> int:
        return BYTES_PER_VALUE[self.dtype]

    @property
    def weight_bytes(self) -> int:
        return self.weight_elements * self.bytes_per_value

    @property
    def activation_bytes(self) -> int:
        return self.activation_elements * self.bytes_per_value

    @property
    def compute_pj(self) -> Fraction:
        return self.macs * self.mac_pj

    @property
    def weight_pj(self) -> Fraction:
        return self.weight_bytes * self.weight_byte_pj

    @property
    def activation_pj(self) -> Fraction:
        return self.activation_bytes * self.activation_byte_pj

    @property
    def memory_pj(self) -> Fraction:
        return self.weight_pj + self.activation_pj

    @property
    def total_pj(self) -> Fraction:
        return self.compute_pj + self.memory_pj

    @property
    def compute_mj(self) -> float:
        return float(self.compute_pj / 10**9)

    @property
    def memory_mj(self) -> float:
        return float(self.memory_pj / 10**9)

    @property
    def weight_mj(self) -> float:
        return float(self.weight_pj / 10**9)

    @property
    def activation_mj(self) -> float:
        return float(self.activation_pj / 10**9)

    @property
    def total_mj(self) -> float:
        return float(self.total_pj / 10**9)

    @property
    def memory_share(self) -> float:
        return float(self.memory_pj / self.total_pj) if self.total_pj else 0.0

    def as_dict(self) -> dict[str, object]:
        """The JSON of ``python -m explainer energy --json``."""
        return {
            "model": self.model, "width": 1.0 if self.width is None else self.width, "resolution": self.resolution,
            "dtype": self.dtype, "weights_on_chip": self.weights_on_chip,
            "activations_on_chip": self.activations_on_chip,
            "macs": self.macs, "weight_bytes": self.weight_bytes, "activation_bytes": self.activation_bytes,
            "bytes_per_value": self.bytes_per_value,
            "compute_mj": self.compute_mj, "memory_mj": self.memory_mj, "weight_mj": self.weight_mj,
            "activation_mj": self.activation_mj, "total_mj": self.total_mj,
            "energies_pj": {"mac": float(self.mac_pj), "weight_byte": float(self.weight_byte_pj),
                            "activation_byte": float(self.activation_byte_pj)},
            "operations_pj": {op.key: float(op.pj) for op in OPERATIONS},
            "mac_operations": list(MAC_OPS[self.dtype]),
            "sources": [HOROWITZ],
        }


def estimate(model: str, width: float | None = None, resolution: int = 224, dtype: str = "fp32", *,
             weights_on_chip: bool = False, activations_on_chip: bool = False) -> Estimate:
    """The energy of one inference of ``model`` (any registered name; MobileNets at any ``width``).

    MACs and the elements moved are the exact counter's (:func:`explainer.zoo.network.count_network`);
    raises :class:`InvalidInputError` for an unknown model or format, or a width/resolution out of range.
    """
    from explainer.zoo.network import count_network

    dtype = _check_dtype(dtype)
    network = count_network(model, resolution, width)
    return Estimate(model, network.width, network.resolution, dtype, bool(weights_on_chip),
                    bool(activations_on_chip), network.macs, network.weight_reads, network.activation_moves,
                    mac_pj(dtype), byte_pj("on_chip" if weights_on_chip else "dram"),
                    byte_pj("on_chip" if activations_on_chip else "dram"))


def battery_photos(battery_wh: float, mj_per_photo: float) -> float:
    """How many photos a battery of ``battery_wh`` watt-hours pays for at ``mj_per_photo`` (1 Wh = 3600 J)."""
    if battery_wh <= 0 or mj_per_photo <= 0:
        raise InvalidInputError("energy.bad_battery", value=battery_wh)
    return battery_wh * 3600.0 / (mj_per_photo / 1000.0)


def battery_hours(battery_wh: float, mj_per_photo: float, fps: float = CAMERA_FPS) -> float:
    """Hours of a live camera view at ``fps`` photos per second before the battery is empty (inference only)."""
    return battery_photos(battery_wh, mj_per_photo) / fps / 3600.0


def watts(mj_per_photo: float, fps: float = CAMERA_FPS) -> float:
    """Average power of the inferences alone at ``fps`` photos per second, W."""
    return mj_per_photo / 1000.0 * fps
