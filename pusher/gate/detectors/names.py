"""Private persons' names beside personal data (PIPL art. 28; 公示 de-identification ``张*``).

A name is a finding only where it sits in the same *unit* — a sentence, a line or list item, a
table row — as personal data: an ID number, a mobile, a bank card or account, a home address
down to the house number or village group, or sensitive information (illness, disability,
低保/特困 status, religion, a criminal record). A name anywhere else (a notice signed by a
department, an official chairing a meeting) is not.

Names are found offline with jieba's dictionary and part-of-speech tags (``nr``), helped by the
surname list below: jieba tags about 85% of generated names ``nr`` on its own; a surname token
followed by a one- or two-character given name it left untagged (王 / 桂兰) is joined, and a
table cell that is a surname plus one to three characters is a name.

Officials named in their role are not private persons: a name directly after a title
(局长 张三, 副县长李四, 主任：王五) or directly before one (张三同志, 张三局长) is skipped. That is
how the roles are told apart; ``bench/gate_eval.py`` measures it on generated officials' lines.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence

from pusher.gate.detectors.bankcard import BankCardDetector
from pusher.gate.detectors.base import DetectorBase, Match
from pusher.gate.detectors.idcard import IdCardDetector
from pusher.gate.detectors.phone import MobileDetector

# The commonest surnames (≈ 95% of the population), and the compound ones kept whole when masked.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    "常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "令狐", "夏侯", "端木", "独孤"}
)

TITLES = (
    "书记|副书记|县长|副县长|市长|副市长|区长|副区长|镇长|副镇长|乡长|副乡长|局长|副局长|主任|副主任|主席|副主席|部长|副部长|厅长|处长|科长|股长|所长|站长|院长|"
    "校长|会长|理事长|秘书长|委员|常委|主任委员|组长|副组长|队长|经理|总经理|董事长|行长|代表|检察长|庭长|审判长|审判员|法官|局党组书记|调研员|干部|负责人|联络员|记者|通讯员"
)
_TITLE_BEFORE = re.compile(rf"(?:{TITLES})\s*[:：]?\s*$")
_TITLE_AFTER = re.compile(rf"\s*(?:同志|{TITLES})")

# Home addresses down to the house or the village group; sensitive personal information (PIPL 28).
_ADDRESS = re.compile(r"\d+\s*(?:号|幢|栋|单元|室|弄)|[村社].{0,6}?[\d一二三四五六七八九十]+\s*(?:组|队)|[\d一二三四五六七八九十]+组")
_SENSITIVE = re.compile(
    r"低保|特困|五保|建档立卡|贫困户|困难户|残疾|残疾证|精神病|精神障碍|患有|患病|病情|癌|尿毒症|白血病|艾滋|HIV|肝炎|结核|重病|大病|住院|治疗|"
    r"智力障碍|失能|宗教|信教|基督|天主|伊斯兰|佛教信徒|刑满释放|服刑|犯罪|前科|吸毒|戒毒|社区矫正|缓刑|违法犯罪"
)
_UNIT_END = re.compile(r"[。；！？!?;\n]")
_CELL_NAME = re.compile(r"[\u4e00-\u9fff]{2,5}")
_LABELLED_NAME = re.compile(r"(?:姓名|户主|申请人|监护人|联系人|收款人|持卡人|户名)\s*[:：]?\s*([\u4e00-\u9fff]{2,4}?)(?=[，,、\s（(]|$)")

_lock = threading.Lock()
_jieba_ready = False


def _posseg() -> object:
    global _jieba_ready
    import jieba
    import jieba.posseg as pseg

    with _lock:
        if not _jieba_ready:
            jieba.setLogLevel(60)  # its dictionary-loading chatter is not the operator's business
            jieba.initialize()
            _jieba_ready = True
    return pseg


def surname_of(name: str) -> str:
    return name[:2] if name[:2] in COMPOUND else name[:1]


def is_surname_start(word: str) -> bool:
    return word[:2] in COMPOUND or word[:1] in SURNAMES


class PersonNameDetector(DetectorBase):
    """Private persons' names in the same sentence or table row as personal data (masked 张*)."""

    name = "person_name"
    contact = False
    uses_units = True  # the gate passes table rows as units

    def __init__(self, settings: object = None) -> None:
        self._triggers = (IdCardDetector(), MobileDetector(), BankCardDetector())

    def _units(self, text: str, rows: Sequence[tuple[int, int]]) -> list[tuple[int, int, bool]]:
        out: list[tuple[int, int, bool]] = [(s, e, True) for s, e in rows]
        covered = sorted(rows)
        pos = 0
        for m in (*_UNIT_END.finditer(text), None):
            end = m.end() if m else len(text)
            if end > pos and not any(s <= pos and end <= e for s, e in covered):
                out.append((pos, end, False))
            pos = end
        return out

    def _personal(self, unit: str) -> bool:
        if _SENSITIVE.search(unit) or _ADDRESS.search(unit):
            return True
        return any(next(iter(d.find(unit)), None) is not None for d in self._triggers)

    def find(self, text: str, units: Sequence[tuple[int, int]] = ()) -> Iterator[Match]:
        seen: set[tuple[int, int]] = set()
        for start, end, is_row in self._units(text, units):
            unit = text[start:end]
            if len(unit) < 4 or not self._personal(unit):
                continue
            for s, e in self._names(unit, is_row):
                if (start + s, start + e) not in seen:
                    seen.add((start + s, start + e))
                    yield Match(start + s, start + e)

    def _names(self, unit: str, is_row: bool) -> Iterator[tuple[int, int]]:
        pseg = _posseg()
        tokens = [(w, f) for w, f in pseg.cut(unit)]  # type: ignore[attr-defined]
        pos = 0
        spans: list[tuple[int, int, str]] = []
        for i, (w, flag) in enumerate(tokens):
            if flag.startswith("nr") and 2 <= len(w) <= 4 and is_surname_start(w):
                spans.append((pos, pos + len(w), w))
            elif ((len(w) == 1 and w in SURNAMES) or w in COMPOUND) and i + 1 < len(tokens):
                # jieba left a surname alone (王 / 桂兰): join the given name after it.
                nxt, nflag = tokens[i + 1]
                if 1 <= len(nxt) <= 2 and _CELL_NAME.fullmatch(w + nxt) and nflag not in ("v", "p", "c", "u", "d", "m", "q", "r", "f"):
                    spans.append((pos, pos + len(w) + len(nxt), w + nxt))
            pos += len(w)
        if is_row:
            # A table cell that is a surname and a given name: the 姓名 column of a roster.
            for m in re.finditer(r"(?:^|\n)\s*([\u4e00-\u9fff]{2,4})\s*(?=\n|$)", unit):
                cell = m.group(1)
                if is_surname_start(cell) and not _common_word(cell):
                    spans.append((m.start(1), m.end(1), cell))
        for m in re.finditer(
            r"(?:姓名|户主|申请人|监护人|联系人|收款人|持卡人|户名)\s*[:：]?\s*([\u4e00-\u9fff]{2,4}?)(?=[，,、\s（(]|$)", unit
        ):
            if is_surname_start(m.group(1)):
                spans.append((m.start(1), m.end(1), m.group(1)))
        for s, e, _ in sorted(set(spans)):
            if _TITLE_BEFORE.search(unit, max(0, s - 12), s) or _TITLE_AFTER.match(unit, e):
                continue  # an official in their role
            if unit[e - 1] in PLACE_SUFFIX or unit[e : e + 1] in PLACE_SUFFIX:
                continue  # a place: 后吴村, 黄村, 王家 + 村 (a roster's village column sits beside the name)
            if _NOT_A_PERSON_AFTER.match(unit, e) or unit[s] in FUNCTION_CHARS or _dictionary_word(unit[s:e]):
                continue  # 金政发〔2008〕, 毕博诚科技有限公司, 和政务 (a conjunction), 文明 (a word)
            yield s, e

    def mask(self, matched: str) -> str:
        keep = len(surname_of(matched))
        return matched[:keep] + "*" * (len(matched) - keep)


#: What follows an organisation's or a document number's name, not a person's.
_NOT_A_PERSON_AFTER = re.compile(
    r"\s*(?:〔|\[|［|（\d|\(\d|科技|公司|集团|有限|银行|医院|学校|中心|委员会|协会|合作社|厂|店|局|厅|办|站|所|院|馆)"
)
#: Surname characters that are far more often a conjunction, preposition or pronoun here.
FUNCTION_CHARS = frozenset("和与及同向于从对将把被在为以由按经各全所其该本")


def _dictionary_word(word: str) -> bool:
    """A common word jieba does not take for a name (文明, 桂花): a frequent dictionary entry."""
    import jieba

    _posseg()
    return jieba.dt.FREQ.get(word, 0) > 500 and not any(f.startswith("nr") for _, f in _posseg().cut(word))  # type: ignore[attr-defined]


#: Last characters of village, street and place names; a given name ends in one of them rarely.
PLACE_SUFFIX = frozenset("村镇乡街路巷弄区县市省组队湾桥塘坑岭溪庄寨屯垟畈")


def _common_word(cell: str) -> bool:
    """A dictionary word that happens to start with a surname character (合计, 金额, 方式…)."""
    import jieba

    _posseg()
    freq = jieba.dt.FREQ.get(cell, 0)
    return freq > 50 and not any(f.startswith("nr") for _, f in _posseg().cut(cell))  # type: ignore[attr-defined]
