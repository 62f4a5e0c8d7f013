"""``icp-assistant regime``: arguments -> exit code + output (in-process, no index needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_flags_give_the_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["regime", "--server", "hk", "--operator", "foreign-company", "--service", "website",
                        "--paid", "yes"], capsys)
    assert code == 0
    assert "| Obligation | Status | Why | Sources |" in out
    assert "| ICP filing (备案) | **Not needed** |" in out and "| ICP licence (B25, 经营许可证) | **Not needed** |" in out
    assert "provider practice" in out  # the offshore outcome rests on practice and says so


def test_json_output_has_statuses_facts_and_citations(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["regime", "--json", "--operator", "foreign-invested", "--foreign-share", "100",
                        "--paid", "yes", "--province", "hainan"], capsys)
    data = json.loads(out)
    assert code == 0
    assert data["statuses"]["icp-licence"] == "depends" and data["statuses"]["foreign-ownership"] == "depends"
    assert {f["fact"]: f["source"] for f in data["facts"]}["province"] == "given"
    assert all(row["cites"] for row in data["outcomes"])
    assert data["follow_up"] is None or data["follow_up"]["options"]


def test_a_question_in_chinese_answers_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["regime", "--question", "我们是外资企业，服务器在上海，做付费会员网站，需要办什么？"], capsys)
    assert code == 0 and "| 事项 | 结论 | 理由 | 依据 |" in out and "**无法办理**" in out
    assert "外资比例" in out  # the follow-up asks for the foreign share


def test_lang_and_plain_text_for_tickets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["regime", "--text", "--lang", "zh", "--sales", "own-goods", "--fact", "cdn=none"], capsys)
    assert code == 0 and "所依据的事实:" in out and "存在分歧" in out and "|" not in out


@pytest.mark.parametrize(("argv", "message"), [
    (["regime", "--server", "moon"], "error: server: expected one of mainland, hk-macao-taiwan, abroad"),
    (["regime", "--fact", "colour"], "error: --fact expects NAME=VALUE. Got: 'colour'"),
    (["regime", "--fact", "colour=red"], "error: unknown fact 'colour'. Expected one of:"),
    (["regime", "--model", "{tmp}/regime.yml"], "error: {tmp}/regime.yml: rule 'b25-free': field 'status': "),
])
def test_errors_become_messages_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                           message: str) -> None:
    (tmp_path / "regime.yml").write_text(
        (Path(__file__).resolve().parents[1] / "corpus" / "regime.yml").read_text(encoding="utf-8")
        .replace("      - id: b25-free\n        when: {paid: [\"no\"], sales: [none]}\n        status: not-needed",
                 "      - id: b25-free\n        when: {paid: [\"no\"], sales: [none]}\n        status: unneeded"),
        encoding="utf-8")
    code, out, err = run([a.replace("{tmp}", str(tmp_path)) for a in argv], capsys)
    assert code == 2 and out == "" and err.startswith(message.replace("{tmp}", str(tmp_path)))
    assert "Traceback" not in err
