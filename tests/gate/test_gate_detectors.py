"""The detector contract, run on every registered detector, plus each detector's own cases."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from gate_samples import CARD16, CARD19, ID, ID15, ID_X, card

from pusher.gate import DEFAULT_POLICY, DETECTORS, GateSettings, fold
from pusher.gate.detectors import Detector

FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


class DetectorContract:
    """Every detector: positives found exactly (alone, inside Chinese prose, full-width),
    negatives not found, masks keep the length and are not found again."""

    name: ClassVar[str]
    positives: ClassVar[tuple[str, ...]]
    negatives: ClassVar[tuple[str, ...]]

    @pytest.fixture
    def detector(self, tmp_path: Path) -> Detector:
        return DETECTORS.get(self.name).factory(self.settings(tmp_path))

    def settings(self, tmp_path: Path) -> GateSettings:
        return GateSettings()

    def spans(self, d: Detector, text: str) -> list[str]:
        folded = fold(text)
        assert len(folded) == len(text)
        return [text[m.start : m.end] for m in d.find(folded)]

    def test_registered_with_a_default_rule(self, detector: Detector) -> None:
        assert detector.name == self.name
        assert self.name in DEFAULT_POLICY

    def test_positives_found_exactly(self, detector: Detector) -> None:
        for p in self.positives:
            assert self.spans(detector, p) == [p], p
            assert self.spans(detector, f"联系人：张三，{p}。请核对") == [p], p

    def test_negatives_pass(self, detector: Detector) -> None:
        for n in self.negatives:
            assert self.spans(detector, n) == [], n

    def test_mask_keeps_length_and_hides(self, detector: Detector) -> None:
        for p in self.positives:
            masked = detector.mask(p)
            assert len(masked) == len(p) and masked != p, p
            assert self.spans(detector, f"联系人：{masked}。") == [], masked

    def test_empty_and_plain_text(self, detector: Detector) -> None:
        assert self.spans(detector, "") == []
        assert self.spans(detector, "本年报根据《政府信息公开条例》编制。\n2012年1月1日起至12月31日止。") == []


class TestIdCard(DetectorContract):
    name = "id_card"
    positives = (ID, ID_X, ID_X.lower(), ID15, f"{ID[:6]} {ID[6:14]} {ID[14:]}", f"{ID[:6]}-{ID[6:10]}-{ID[10:14]}-{ID[14:]}")
    negatives = (
        "330784********1234",  # already masked
        "3307**********1234",
        "统一社会信用代码：113301195812345671",  # an institution's code: region, then a date-like run
        "组织机构代码：330119851234567890",
        "订单号：330119851234567890",
        "3307841990****1234",
        "000784199003071238",  # no such province
        "330784199013071234",  # month 13
        ID + "5",  # part of a longer number
        "A" + ID,
        f"{ID[:6]} {ID[6:14]} {ID[14:]} 5678",  # a piece of a longer run of groups
    )

    def test_wrong_check_digit_is_still_an_id_and_says_so(self, detector: Detector) -> None:
        # Issue 14: a typo in a 公示 still exposes a region and a birth date.
        for wrong in ("330127198802154312", "33012719880215431X", ID[:-1] + str((int(ID[-1]) + 1) % 10)):
            found = list(detector.find(f"身份证号：{wrong}"))
            assert [(m.start, m.end, m.note) for m in found] == [(5, 23, "check digit wrong")], wrong
        assert [m.note for m in detector.find(ID)] == ["check digit right"]

    def test_old_business_registration_number_is_not_an_id(self, detector: Detector) -> None:
        assert self.spans(detector, "营业执照注册号：330784600123456") == []
        assert self.spans(detector, "身份证号：330784600123456") == ["330784600123456"]

    def test_full_width_digits(self, detector: Detector) -> None:
        wide = ID_X.translate(FULL)
        assert self.spans(detector, f"身份证号码：{wide}") == [wide]


class TestMobile(DetectorContract):
    name = "mobile"
    positives = (
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 13912345678",
        "+8619912345678",
        "0086-15012345678",
        "(+86)17712345678",
    )
    negatives = ("12812345678", "1381234567", "138123456789", "13812345678元", "2013-03-29", "138****5678", "A13812345678")

    def test_next_to_another_number(self, detector: Detector) -> None:
        assert self.spans(detector, "0579-87101077 13812345678、13912345678") == ["13812345678", "13912345678"]

    def test_full_width(self, detector: Detector) -> None:
        wide = "13812345678".translate(FULL)
        assert self.spans(detector, f"手机：{wide}") == [wide]


class TestLandline(DetectorContract):
    name = "landline"
    positives = (
        "0579-87101077",
        "(0579)87101077",
        "（0579）87101077",
        "010-62345678",
        "0579 87101077",
        "057987101077",
        "0579-87101077-8001",
    )
    negatives = (
        "87101077",
        "12119",
        "2013-13135",
        "0579-0123456",
        "330784ZF060000/2013-13135",
        "项目编号YK2015-0842 20160926发布",  # a code's tail, then a date
        "410481********0953 20250416",  # a masked ID's tail, then a date
    )


class TestEmail(DetectorContract):
    name = "email"
    positives = ("gkb1416@126.com", "zhang.san@qq.com", "a@x.cn", "info@yk.gov.cn", "ｇｋｂ＠１２６．ｃｏｍ")
    negatives = ("www.yk.gov.cn", "@126.com", "gkb1416@", "g*****@126.com", "张三@单位")


class TestBankCard(DetectorContract):
    name = "bank_card"
    positives = (
        CARD16,
        CARD19,
        f"{CARD16[:4]} {CARD16[4:8]} {CARD16[8:12]} {CARD16[12:]}",
        f"{CARD19[:4]}-{CARD19[4:8]}-{CARD19[8:12]}-{CARD19[12:16]}-{CARD19[16:]}",
    )
    negatives = (
        CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10),  # Luhn fails
        "2013032900012345675",  # a date-prefixed serial number, not an issuer prefix
        ID,  # an ID number is the ID detector's
        "513307840000000217",  # a social organisation's 统一社会信用代码 (valid, and it passes Luhn too)
        "1234567890123452",
        CARD16 + "元",
        "6228****5671",
        "330784ZF060000/2013-13135",
        "永政发〔2012〕12号",
    )

    def test_every_length_16_to_19_and_18_digit_unionpay(self, detector: Detector) -> None:
        # Issue 14: an 18-digit UnionPay number that is no ID (digits 7–14 no birth date) is a card.
        assert self.spans(detector, "卡号623668707848459683") == ["623668707848459683"]
        for n in (16, 17, 18, 19):
            number = card("6217" + "0" * (n - 7) + "12")
            assert len(number) == n and self.spans(detector, f"银行卡：{number}") == [number], number
            grouped = " ".join(number[i : i + 4] for i in range(0, n, 4))
            assert self.spans(detector, f"银行卡 {grouped} 。") == [grouped], grouped

    def test_labelled_account_held_even_when_luhn_fails(self, detector: Detector) -> None:
        bad = CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10)
        for label in ("卡号", "账号", "开户账号", "收款账号", "银行账户"):
            found = list(detector.find(f"{label}：{bad}。"))
            assert [m.note for m in found] == ["labelled account number, fails Luhn"], label
        assert self.spans(detector, "账号：12345678901 。") == ["12345678901"]
        assert self.spans(detector, "账号：1234") == []  # too short for an account


class TestClassification(DetectorContract):
    name = "classification"
    positives = (
        "秘密★",
        "秘密★1年",
        "机密★5年",
        "绝密★长期",
        "机密 ★ 10年",
        "密级：机密",
        "保密期限：20年",
        "此件不公开",
        "（此件不公开）",
        "【内部资料】",
        "内部资料，注意保存",
        "内部传阅",
        "（不予公开）",
        "公开方式：不予公开",
    )
    negatives = (
        "涉及国家秘密、商业秘密、个人隐私的政府信息",
        "采取无记名秘密投票方式选举",
        "依法答复不予公开3件",
        "此件公开发布",
        "做好保密工作，严防失泄密",
        "内部资料性出版物准印证",
        "机密文件管理办法",
        "依申请公开",
    )

    def test_mark_on_its_own_line(self, detector: Detector) -> None:
        assert self.spans(detector, "关于召开会议的通知\n机密\n各乡镇人民政府：") == ["机密"]
        assert self.spans(detector, "秘密 永政发〔2012〕12号") == ["秘密"]
        assert self.spans(detector, "公开方式\n不予公开") == ["公开方式\n不予公开"]


class TestKeyword(DetectorContract):
    name = "keyword"
    positives = ("测试信息", "请勿外传", "DRAFT")
    negatives = ("测试", "信息", "外传")

    def settings(self, tmp_path: Path) -> GateSettings:
        (tmp_path / "kw.txt").write_text("# comment\n测试信息\n\n请勿外传\ndraft\n", encoding="utf-8")
        return GateSettings(keyword_files=(tmp_path / "kw.txt",))

    def test_case_insensitive_latin(self, detector: Detector) -> None:
        assert self.spans(detector, "this is a Draft") == ["Draft"]


class TestPersonName(DetectorContract):
    name = "person_name"
    positives = ()  # a name alone is no finding: the cases below put it beside personal data
    negatives = (
        "张三主持会议。",
        f"局长张伟，身份证号{ID}。",  # an official in their role
        "王明同志，电话13812345678。",
        f"张*，身份证号{ID[:6]}********{ID[-4:]}。",  # already de-identified
        "县民政局关于低保工作的通知",
    )

    def test_name_beside_personal_data(self, detector: Detector) -> None:
        for text, name in (
            (f"王桂兰，身份证号{ID}，低保户。", "王桂兰"),
            ("欧阳娜娜患有尿毒症，申请大病救助。", "欧阳娜娜"),
            ("户主李建国，住址城西村3组。", "李建国"),
            (f"收款人：赵丽，卡号{CARD16}。", "赵丽"),
        ):
            assert self.spans(detector, text) == [name], text
        assert detector.mask("欧阳娜娜") == "欧阳**" and detector.mask("张三") == "张*"

    def test_table_row_is_one_unit(self, detector: Detector) -> None:
        text = f"姓名\n身份证号\n王桂兰\n{ID}"
        row = (len("姓名\n身份证号\n"), len(text))
        assert [text[m.start : m.end] for m in detector.find(text, units=[row])] == ["王桂兰"]  # type: ignore[call-arg]


class TestContent(DetectorContract):
    name = "content"
    positives = ("攻府", "中华人民共合国", "应急管里部")  # a listed typo, a near miss by sound
    negatives = ("中华人民共和国", "县农业部门", "财政补贴按时发放", "应急管理部")


def test_every_detector_has_a_contract_test() -> None:
    tested = {cls.name for cls in DetectorContract.__subclasses__()}
    # "attachment" is the gate's own finding for an attachment it cannot read, not a detector.
    assert tested == set(DETECTORS.kinds()) == set(DEFAULT_POLICY) - {"attachment"}
