"""The model registry agrees with torchvision's weights metadata, the papers and the rest of the app."""

from __future__ import annotations

import dataclasses

import pytest
from torchvision import models as tv

from explainer import architectures, catalogue, published
from explainer import registry
from explainer.zoo.network import count_network

TORCHVISION_MODELS = [name for name, spec in registry.MODELS.items() if spec.builder == "torchvision"]


def test_the_issue_models_are_all_there():
    listed = {"squeezenet1_0", "squeezenet1_1", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
              "shufflenet_v2_x2_0", "mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3", "efficientnet_b0",
              "resnet18", "resnet50", "vgg16"}
    assert listed | set(architectures.MODEL_NAMES) <= set(registry.MODEL_NAMES)  # adding a model: one record
    assert registry.MODEL_NAMES[:4] == architectures.MODEL_NAMES  # MobileNets first, in the app's order


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_published_figures_equal_torchvision_metadata(name):
    spec = registry.get(name)
    default = tv.get_model_weights(name).DEFAULT
    assert spec.weights == f"{type(default).__name__}.{default.name}"
    assert spec.top1 == default.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert spec.num_params == default.meta["num_params"]
    assert spec.file_size_mib == default.meta["_file_size"]
    assert spec.weights in spec.top1_source


@pytest.mark.parametrize("name", architectures.MODEL_NAMES)
def test_mobilenets_consistent_with_the_rest_of_the_app(name):
    spec = registry.get(name)
    assert spec.display == architectures.DISPLAY_NAMES[name] and spec.family == "mobilenet" and spec.is_mobilenet
    if spec.weights is not None:  # the weights the app loads are the ones whose accuracy we show
        enum_name, member = spec.weights.split(".")
        assert catalogue.get(spec.weights_asset).url == getattr(getattr(tv, enum_name), member).url
    assert spec.taught and getattr(tv, spec.local_transform.split(".")[0])  # a user's own file's preprocessing
    network = architectures.build_network(name)
    assert spec.num_params == network.total_params == count_network(name).total_params


def test_v1_accuracy_is_the_papers():
    spec = registry.get("mobilenet_v1")
    assert spec.top1 == published.headline("mobilenet_v1").top1 == 70.6
    assert "Howard" in spec.top1_source and spec.weights is None and spec.file_size_mib is None


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_float32_size_matches_the_weights_file(name):
    """Our size (parameters + buffers at 4 bytes) is the released .pth file's size minus a little pickle overhead."""
    file_bytes = registry.get(name).file_size_mib * 2**20
    ours = count_network(name).size_mb * 1e6
    assert 0.985 * file_bytes < ours <= file_bytes
    assert 0.24 < count_network(name).int8_size_mb / count_network(name).size_mb < 0.27


def test_register_refuses_duplicates_and_unknown_names():
    with pytest.raises(ValueError):
        registry.register(dataclasses.replace(registry.get("vgg16")))
    from explainer.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="Unknown network"):
        registry.get("alexnet")
    assert [v.name for v in registry.variants("shufflenet_v2")] == [
        "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
