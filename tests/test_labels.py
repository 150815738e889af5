"""ImageNet class names in 简体中文: aligned with torchvision, complete, distinct, spot-checked by hand; CLI --lang zh."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from explainer.cli import main
from explainer.labels import IMAGENET_CLASSES, imagenet_label, imagenet_labels, label_pairs

CJK = re.compile(r"[\u4e00-\u9fff]")

#: Checked by hand against the English (and the photos these classes hold).
HAND_CHECKED = {
    "tabby": "虎斑猫",
    "tiger cat": "虎纹猫",
    "Egyptian cat": "埃及猫",
    "Persian cat": "波斯猫",
    "Siamese cat": "暹罗猫",
    "golden retriever": "金毛寻回犬",
    "Labrador retriever": "拉布拉多寻回犬",
    "goldfish": "金鱼",
    "great white shark": "大白鲨",
    "espresso": "意式浓缩咖啡",
    "coffee mug": "咖啡杯",
    "giant panda": "大熊猫",
    "lesser panda": "小熊猫",
    "chickadee": "山雀",
    "daisy": "雏菊",
    "dragonfly": "蜻蜓",
    "damselfly": "豆娘",
    "bee": "蜜蜂",
    "ant": "蚂蚁",
    "space shuttle": "航天飞机",
    "military uniform": "军装",
    "banana": "香蕉",
    "pizza": "披萨",
    "crane": "起重机",
    "crane bird": "鹤",
    "laptop": "笔记本电脑",
    "mouse": "鼠标",
    "volcano": "火山",
    "hot pot": "火锅",
    "Cardigan": "卡迪根威尔士柯基犬",
    "cardigan": "开襟毛衣",
}


@pytest.fixture(scope="module")
def torchvision_categories() -> list[str]:
    from torchvision.models import MobileNet_V2_Weights

    return list(MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def test_line_i_is_torchvision_class_i(torchvision_categories) -> None:
    english = [pair[0] for pair in label_pairs("imagenet")]
    assert len(english) == IMAGENET_CLASSES == len(torchvision_categories)
    assert english == torchvision_categories
    assert imagenet_labels("en") == tuple(torchvision_categories)


def test_every_class_has_a_distinct_chinese_name() -> None:
    chinese = imagenet_labels("zh")
    assert len(chinese) == IMAGENET_CLASSES
    for index, name in enumerate(chinese):
        assert name.strip() == name and name, index
        assert CJK.search(name), f"class {index} ({imagenet_label(index)}): {name!r} has no Chinese"
    english = imagenet_labels("en")
    seen: dict[str, str] = {}
    for en, zh in zip(english, chinese):
        assert seen.setdefault(zh, en) == en, f"{zh!r} names both {seen[zh]!r} and {en!r}"
    assert not [name for name, n in Counter(chinese).items() if n > 1]


def test_hand_checked_sample(torchvision_categories) -> None:
    for english, chinese in HAND_CHECKED.items():
        index = torchvision_categories.index(english)
        assert imagenet_label(index, "zh") == chinese, english
        assert imagenet_label(index, "en") == english


def test_index_limits_and_unknown_language() -> None:
    assert imagenet_label(281, "fr") == "tabby"  # any other language: English
    for bad in (-1, IMAGENET_CLASSES):
        with pytest.raises(IndexError):
            imagenet_label(bad, "zh")


@pytest.mark.slow
def test_cli_lang_zh_gives_chinese_labels_at_the_same_indices(weights_dir, shared_images, capsys) -> None:
    """The shared photos' recorded English top 5 (expected.json), now in Chinese, class by class."""
    categories = imagenet_labels("en")
    for path, entry in shared_images.items():
        assert main(["classify", path, "--json", "--lang", "zh", "--weights-dir", str(weights_dir)]) == 0
        predictions = json.loads(capsys.readouterr().out)["predictions"]
        recorded = [name for name, _ in entry["converted_mobilenet_v2"]["top5"]]
        assert [p["label_en"] for p in predictions] == recorded
        assert [categories[p["index"]] for p in predictions] == recorded
        assert [p["label"] for p in predictions] == [imagenet_label(categories.index(n), "zh") for n in recorded]
    cat = next(p for p in shared_images if p.endswith("cat.jpg"))
    assert main(["classify", cat, "--lang", "zh", "--top", "3", "--weights-dir", str(weights_dir)]) == 0
    table = capsys.readouterr().out
    assert "埃及猫" in table and "虎斑猫" in table and "虎纹猫" in table and "Egyptian cat" not in table
