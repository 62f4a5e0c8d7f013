"""A message that asks several things is split into its asks (``assistant/asks.py``)."""

from __future__ import annotations

import pytest

from assistant.asks import ASK_LABEL, ask_label, asking_part, retrieval_query, split_asks


@pytest.mark.parametrize(("message", "asks"), [
    ("Does my personal blog need Bei'an?", ["Does my personal blog need Bei'an?"]),
    # the situation told first stays with the first ask; a closing remark with the last
    ("Our company moved offices. Do we have to update our ICP beian? is there a deadline, and whats the fine if we "
     "just dont bother? asking for my CEO",
     ["Our company moved offices. Do we have to update our ICP beian?", "is there a deadline",
      "whats the fine if we just dont bother? asking for my CEO"]),
    ("工信部备案下来了，公安备案是必须的吗？有没有时间限制，不办会怎样？", ["工信部备案下来了，公安备案是必须的吗？", "有没有时间限制，不办会怎样？"]),
    ("工信部发的短信验证码过了一天多才发现，现在还能验证吗？另外验证码输错几次会怎样",
     ["工信部发的短信验证码过了一天多才发现，现在还能验证吗？", "另外验证码输错几次会怎样"]),
    # words that ask nothing go with the ask after them, not on their own
    ("As of 2020, did I have to put the verification file on my site?", ["As of 2020, did I have to put the verification file on my site?"]),
    ("我们公司被另一家公司收购了，能不能直接提交变更？", ["我们公司被另一家公司收购了，能不能直接提交变更？"]),
    # alternatives of one ask, and a coordinated object, are one ask
    ("Where do I file - the province where my server is, or where my company is registered?",
     ["Where do I file - the province where my server is, or where my company is registered?"]),
    ("What documents and what fee rate does WeChat Pay require?", ["What documents and what fee rate does WeChat Pay require?"]),
    ("if I file example.com, do I also have to file blog.example.com separately?",
     ["if I file example.com, do I also have to file blog.example.com separately?"]),
])
def test_a_message_is_split_into_its_asks(message: str, asks: list[str]) -> None:
    assert split_asks(message) == asks


def test_no_more_than_four_asks() -> None:
    asks = split_asks("Is A needed? Is B needed? Is C needed? Is D needed? Is E needed? Is F needed?")
    assert len(asks) == 4 and asks[-1] == "Is D needed? Is E needed? Is F needed?"


def test_a_later_ask_is_retrieved_with_the_first() -> None:
    asks = ["Do we have to update our ICP beian?", "is there a deadline"]
    assert retrieval_query(asks, 0) == asks[0]
    assert retrieval_query(asks, 1) == "Do we have to update our ICP beian? is there a deadline"


def test_the_label_names_the_ask_not_the_situation() -> None:
    label = ask_label("Our company moved offices and the contact quit. Do we have to update our ICP beian?", "en")
    assert label == "On “Do we have to update our ICP beian?”:"
    assert ask_label("有没有时间限制？", "zh") == "关于“有没有时间限制？”："
    # a last sentence too short to say what is asked takes the one before it
    assert ask_label("Our site was blocked by the provider. Why", "en") == "On “Our site was blocked by the provider. Why”:"
    assert ASK_LABEL.match(f"{label} Yes — …") and len(ask_label("x " * 200 + "?", "en")) < 100
    # a full stop inside a word ends no sentence: once labelled "com 访问),这种也要备案吗?"
    assert ask_label("域名只用来收企业邮箱(通过 mail.xxx.com 访问),这种也要备案吗?", "zh") == \
        "关于“域名只用来收企业邮箱(通过 mail.xxx.com 访问),这种也要备案吗?”："


@pytest.mark.parametrize(("message", "asking"), [
    ("Got our MIIT ICP filing done last month. Someone on a forum said we ALSO need a PSB filing. "
     "What's the actual penalty if we skip it?", "What's the actual penalty if we skip it?"),
    ("网站负责人离职了。备案信息一定要改吗？不改会怎样", "备案信息一定要改吗？ 不改会怎样"),
    ("Do I need an ICP filing for example.com?", "Do I need an ICP filing for example.com?"),  # one sentence
    ("We filed example.com. We host on Huawei Cloud.", "We filed example.com. We host on Huawei Cloud."),  # none asks
])
def test_the_asking_part_leaves_out_the_story(message: str, asking: str) -> None:
    assert asking_part(message) == asking
