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
from functools import lru_cache

from pusher.gate.detectors.bankcard import BankCardDetector
from pusher.gate.detectors.base import DetectorBase, Match
from pusher.gate.detectors.idcard import IdCardDetector
from pusher.gate.detectors.phone import MobileDetector

# The commonest surnames (≈ 95% of the population), and the compound ones kept whole when masked.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    # Less common, from 百家姓 and the census tables: a name is caught with its rarer surnames too.
    "萧傅阎赖洪官封谈匡鞠惠荆冀郁胥班储栗燕楚鄢劳谌奚皮粟冼蔺楼满闻厉伊仝郜阚权帅屠豆朴盖练廉禹井祖漆巴丰卿狄平宣晋云容敬扈晁芮"
    "阙浦戈伏鹿薄邸雍辜羊乌母裘亓邰赫杭况宿鲜印逯隆茹诸慕亢嵇戎勾茅尉冶斯束檀阴昝幸奉植衡富尧闭钮邴滑荀於羿汲糜宓郗暴钭蓟怀鄂咸籍苍莘贡逄扶堵宰郦濮寿郏庾暨訾乜蒯竺桓"
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
# One character may sit between (黄玉 / 英同志: jieba cut the given name short).
_TITLE_START = re.compile(rf"(?:{TITLES})")
_TITLE_AFTER = re.compile(rf"[\u4e00-\u9fff]?\s*(?:同志|{TITLES})")

# Home addresses down to the house or the village group; sensitive personal information (PIPL 28).
# A house number follows a road or a village (胜利街128号, 黄山路88号4幢, 后吴村3组); a bare
# "12号" is as often a document's (永政发〔2020〕12号, 公告（第5号）, 浙ICP备…号), so it is not enough.
_ADDRESS = re.compile(
    r"(?:住址|家庭住址|现住址|家住|居住地|户籍地)\s*[:：]?"
    r"|[路街巷道村弄里苑园楼区]\s*[\dA-Za-z一二三四五六七八九十]{1,5}\s*(?:号|幢|栋|单元|室|弄|座)"
    r"|[村社].{0,6}?[\d一二三四五六七八九十]+\s*(?:组|队)"
)
_SENSITIVE = re.compile(
    r"低保|特困|五保|建档立卡|贫困户|困难户|残疾|残疾证|精神病|精神障碍|患有|患病|病情|癌|尿毒症|白血病|艾滋|HIV|肝炎|结核|重病|大病|住院|治疗|"
    r"智力障碍|失能|宗教|信教|基督|天主|伊斯兰|佛教信徒|刑满释放|服刑|犯罪|前科|吸毒|戒毒|社区矫正|缓刑|违法犯罪"
)
_UNIT_END = re.compile(r"[。；！？!?;\n]")
_CELL_NAME = re.compile(r"[\u4e00-\u9fff]{2,5}")
_LABELLED_NAME = re.compile(
    r"(?:姓名|户主|申请人|监护人|联系人|收款人|持卡人|户名|开户名|账户名|患者|家属|被申请人|代理人|当事人)\s*[:：]?\s*"
    r"([\u4e00-\u9fff]{2,4}?)(?=[，,、\s（(；;。]|的|$|身份|性别|电话|手机|联系|住址|家庭|户籍|\d)"
)
# Whitespace ends a clause too: a PDF roster's row comes out as one line, cells spaced apart.
_CLAUSE_NAME = re.compile(r"(?:^|(?<=[，,、；;：:（(\s]))([\u4e00-\u9fff]{2,4})(?=[，,、；;（(\s])")
#: What follows a name that owns the data: 张三的银行卡, 李四，身份证号, 王五（身份证….
_OWNER_AFTER = re.compile(
    r"(?=(?:的|[，,]\s*|[（(]\s*)?(?:银行卡|身份证|公民身份|联系电话|手机|账号|卡号|住址|家庭住址|户籍)|的(?:电话|账户|病情|残疾))"
)
#: Labels after which a name-like word belongs to an organisation or an address, up to the clause end.
_NOT_NAME_BEFORE = re.compile(
    r"(?:开户行|开户银行|开户网点|工作单位|单位名称|单位|住址|地址|户籍地|居住地|所在地)\s*[:：]?[^，,。；;：:\n（(]*$"
)
#: A name followed (within a few characters, no punctuation) by what ends a firm's name.
_ORG_AFTER = re.compile(
    r"(?:(?![的和与及])[\u4e00-\u9fff]){0,6}?(?:有限公司|公司|集团|科技|电子|传媒|网络|信息技术|计算机|商贸|实业|贸易|银行(?!卡)|支行|分行|信用社|医院|学校|幼儿园|合作社|研究院)"
)
_PLACE_REST = re.compile(r"[\u4e00-\u9fff]{0,3}[村镇乡街路巷弄区县市省](?:\n|$)")
#: Place characters that, inside a three- or four-character 'name', make it a place.
INNER_PLACE = frozenset("省市县区镇乡村街路")
#: Role nouns jieba sometimes tags nr (申请人 starts with the surname 申).
_ROLE = re.compile(r"(?:人|者|员|方|户|长|主任|书记)$")

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
        joined = -1  # the token a surname before it was joined to: not a name on its own (钟 / 桂花)
        for i, (w, flag) in enumerate(tokens):
            if i == joined:
                pass
            elif ((len(w) == 1 and w in SURNAMES) or w in COMPOUND) and i + 1 < len(tokens) and _given_name(*tokens[i + 1]):
                # jieba left a surname alone (王 / 桂兰): join the given name after it.
                nxt = tokens[i + 1][0]
                spans.append((pos, pos + len(w) + len(nxt), w + nxt))
                joined = i + 1
            elif flag.startswith("nr") and 2 <= len(w) <= 4 and is_surname_start(w) and not _role_word(w):
                spans.append((pos, pos + len(w), w))
            pos += len(w)
        if is_row:
            # A table cell that is a surname and a given name: the 姓名 column of a roster.
            for m in re.finditer(r"(?:^|\n)\s*([\u4e00-\u9fff]{2,4})\s*(?=\n|$)", unit):
                cell = m.group(1)
                if is_surname_start(cell) and not _common_word(cell):
                    spans.append((m.start(1), m.end(1), cell))
        # A clause that is nothing but a name (平丽娟，身份证号…; 张三、李四), and a name owning the
        # data (任欢的银行卡): jieba's HMM splits unseen names oddly (平丽 / 娟, 任欢 as a verb).
        for m in _CLAUSE_NAME.finditer(unit):
            name = m.group(1)
            if is_surname_start(name) and not _role_word(name) and not _word_head(name) and (_oov(name) or _jieba_name(name)):
                spans.append((m.start(1), m.end(1), name))
        for m in _OWNER_AFTER.finditer(unit):
            # The two or three characters before: the three if they start with a surname
            # (公告李淑华), else the two (公示王娟); 的公告 glued before the name is common.
            e = m.start()
            for n in (3, 2):
                name = unit[max(0, e - n) : e]
                if len(name) == n and _CELL_NAME.fullmatch(name) and is_surname_start(name) and not _role_word(name):
                    if _oov(name) or _jieba_name(name):
                        spans.append((e - n, e, name))
                    break
        labelled: set[tuple[int, int]] = set()
        for m in _LABELLED_NAME.finditer(unit):
            name = m.group(1)
            if not _role_word(name) and not _common_word(name) and (is_surname_start(name) or _jieba_name(name)):
                labelled.add((m.start(1), m.end(1)))
        spans += [(s, e, unit[s:e]) for s, e in labelled]
        for s, e, _ in sorted(set(spans)):
            if _TITLE_BEFORE.search(unit, max(0, s - 12), s) or _TITLE_AFTER.match(unit, e):
                continue  # an official in their role
            if e - s == 3 and _TITLE_START.match(unit, e - 1):
                continue  # 王杰书 / 记: jieba took the title's first character into the name
            if _ORG_AFTER.match(unit, e) or _NOT_NAME_BEFORE.search(unit, max(0, s - 24), s):
                continue  # part of a firm's or a bank's name (戴硕电子科技有限公司), or of an address
            if e - s == 4 and unit[s : s + 2] not in COMPOUND and (s, e) not in labelled:
                continue  # 齐齐哈尔, 安全生产: four characters are a name nearly only with a compound surname
            if is_row and _PLACE_REST.match(unit, e):
                continue  # 张家港刘街: the cell goes on into a street's name
            if any(c in INNER_PLACE for c in unit[s + 1 : e]):
                continue  # 雷县魏都: a county inside is a place name
            if (s, e) not in labelled and (_frequent_word(unit[s:e]) or _place_word(unit[s:e])):
                continue  # 文明: jieba tags it nr, but as a word it is far commoner; 张家港 is a place
            if unit[e - 1] in PLACE_SUFFIX or unit[e : e + 1] in PLACE_SUFFIX:
                continue  # a place: 后吴村, 黄村, 王家 + 村 (a roster's village column sits beside the name)
            if _NOT_A_PERSON_AFTER.match(unit, e) or unit[s] in FUNCTION_CHARS or _dictionary_word(unit[s:e]):
                continue  # 金政发〔2008〕, 毕博诚科技有限公司, 和政务 (a conjunction), 文明 (a word)
            yield s, e

    def mask(self, matched: str) -> str:
        keep = len(surname_of(matched))
        if keep >= len(matched):
            # 慕容 flagged alone is 慕 + given name 容 (a compound surname alone is no one's name):
            # keeping the longest surname would hide nothing.
            keep = 1
        return matched[:keep] + "*" * (len(matched) - keep)


#: What follows an organisation's or a document number's name, not a person's.
_NOT_A_PERSON_AFTER = re.compile(
    r"\s*(?:〔|\[|［|（\d|\(\d|号|科技|公司|集团|有限|银行|医院|学校|中心|委员会|协会|合作社|厂|店|局|厅|办|站|所|院|馆)"
)
#: Surname characters that are far more often a conjunction, preposition or pronoun here.
FUNCTION_CHARS = frozenset("和与及同向于从对将把被在为以由按经各全所其该本")


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _role_word(word: str) -> bool:
    """申请人, 负责人, 户主: a role, not a name (a dictionary word ending in a role suffix)."""
    import jieba

    _posseg()
    return bool(_ROLE.search(word)) and jieba.dt.FREQ.get(word, 0) > 0


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _word_head(word: str) -> bool:
    """索引号, 金额数: the candidate opens with a common word (索引, 金额), not a surname and a name."""
    import jieba

    _posseg()
    return any(jieba.dt.FREQ.get(word[:n], 0) > 50 and not _jieba_name(word[:n]) for n in range(2, len(word)))


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _oov(word: str) -> bool:
    """Not a dictionary word: most full names are not in jieba's dictionary."""
    import jieba

    _posseg()
    return jieba.dt.FREQ.get(word, 0) == 0


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _jieba_name(word: str) -> bool:
    return any(f.startswith("nr") for _, f in _posseg().cut(word))  # type: ignore[attr-defined]


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _place_word(word: str) -> bool:
    tokens = list(_posseg().cut(word))  # type: ignore[attr-defined]
    return len(tokens) == 1 and tokens[0].flag == "ns"


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _frequent_word(word: str) -> bool:
    """文明, 建设: so frequent a word that its nr tag is the rarer reading."""
    import jieba

    _posseg()
    return jieba.dt.FREQ.get(word, 0) > 1000


#: Part-of-speech tags a given name never has (verbs, particles, prepositions, numbers …).
_NOT_GIVEN = ("v", "p", "c", "u", "d", "m", "q", "r", "f", "x", "y", "e", "o")


def _given_name(word: str, flag: str) -> bool:
    """What may follow a surname jieba left alone as its given name: one or two Chinese
    characters, not a particle or verb, not a frequent word (项 / 问题 is not a name)."""
    import jieba

    if not 1 <= len(word) <= 2 or not _CELL_NAME.fullmatch("王" + word) or flag.startswith(_NOT_GIVEN):
        return False
    if flag.startswith("nr"):
        return True
    _posseg()
    return len(word) == 1 or jieba.dt.FREQ.get(word, 0) < 1000


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _dictionary_word(word: str) -> bool:
    """A common word jieba does not take for a name (文明, 桂花): a frequent dictionary entry."""
    import jieba

    _posseg()
    return jieba.dt.FREQ.get(word, 0) > 500 and not any(f.startswith("nr") for _, f in _posseg().cut(word))  # type: ignore[attr-defined]


#: Last characters of village, street and place names; a given name ends in one of them rarely.
PLACE_SUFFIX = frozenset("村镇乡街路巷弄区县市省组队湾桥塘坑岭溪庄寨屯垟畈")


@lru_cache(maxsize=65536)  # a pure function of the word: jieba's HMM is the gate's dearest step
def _common_word(cell: str) -> bool:
    """A dictionary word that happens to start with a surname character (合计, 金额, 方式…)."""
    import jieba

    _posseg()
    freq = jieba.dt.FREQ.get(cell, 0)
    return freq > 50 and not any(f.startswith("nr") for _, f in _posseg().cut(cell))  # type: ignore[attr-defined]
