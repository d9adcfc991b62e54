"""Evaluate the sensitive-information gate on a labelled corpus: recall and precision per detector.

The corpus is real government text — the Yongkang annual report in ``tests/fixtures/reference/`` and
the texts, titles, 索引号 and dates of the saved portal pages in ``tests/fixtures/portal-samples/`` —
with personal data from Faker's ``zh_CN`` provider inserted at sentence boundaries (ID numbers
18 and 15 digits, mobiles, landlines, e-mails, bank cards, each in several spellings, next to
names and addresses) together with look-alikes that must pass (索引号, 文号, dates, amounts,
postal codes, credit codes, serial numbers, the office's allowlisted phone and mailbox, numbers
already masked, ordinary prose that mentions 秘密 or 不予公开), and every classification mark.

A finding is a true positive when it overlaps a labelled span of its own detector; a label no
finding of its detector overlaps is a miss. Anything found in the real text itself counts
against precision (the real text has no private data: its one mailbox and phone are the office's,
and they are on the allowlist here).

Then, at the issue's scale: ``--lookalikes`` (2,000) of each look-alike kind, one by one in a
real sentence, for the false-alarm rate per kind; and ``--attachments`` (150) generated rosters
attached as XLSX, DOCX and PDF, for the share of their names, IDs, mobiles and accounts the
attachment findings cover.

What it cannot see: text drawn in images or scanned PDFs (no OCR: such a PDF is an
"unreadable attachment" finding), names the generator never writes (minority names, rarer
surnames, nicknames), IDs written with letters for digits (O for 0) or in Chinese numerals, and
whether a name in its role is really an official's.

    python bench/gate_eval.py [--docs 3000] [--seed 1] [--show-errors 10] [--lookalikes 2000] [--attachments 150]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pusher.gate import GateSettings, build_gate  # noqa: E402
from pusher.gate.detectors.bankcard import luhn_ok  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
OFFICE_PHONE, OFFICE_MAIL = "0579-87101077", "gkb1416@126.com"
ALLOW = (OFFICE_PHONE, "0579-87101078", OFFICE_MAIL)
FULL = str.maketrans("0123456789Xx+-@.", "０１２３４５６７８９Ｘｘ＋－＠．")
TARGETS = {"id_card": (0.995, 0.99), "mobile": (0.995, 0.99), "bank_card": (0.995, 0.99), "person_name": (0.98, 0.99)}


# ------------------------------------------------------------------ real text ----


def real_paragraphs() -> list[str]:
    """Carrier paragraphs: the annual report, and what the saved portal pages say."""
    from feeds.extract import extract_document
    from feeds.xmlsafe import parse_html

    paras: list[str] = []
    for f in sorted((FIXTURES / "reference").glob("*.txt")):
        paras += [ln.strip() for ln in f.read_text(encoding="utf-8").splitlines() if len(ln.strip()) >= 8]
    for f in sorted((FIXTURES / "portal-samples").glob("*.htm*")):
        raw = f.read_text(encoding="utf-8", errors="replace")
        try:
            doc = extract_document(parse_html(raw), "http://portal.invalid/")
            paras += [doc.title, *(t for b in doc.blocks for t in b.texts() if len(t) >= 4)]
        except Exception:  # a list page has no article body: take its titles and table rows
            pass
        page = parse_html(raw)
        for tr in page.iter("tr"):
            cells = [re.sub(r"\s+", " ", td.text_content()).strip() for td in tr]
            if any(cells):
                paras.append(" ".join(c for c in cells if c))
        paras += [a.get("title") or "" for a in page.iter("a") if len(a.get("title") or "") >= 8]
    for f in sorted((FIXTURES / "portal-samples").glob("*.xml")):
        paras += re.findall(r'title="([^"]{8,})"', f.read_text(encoding="utf-8", errors="replace"))
    return [p for p in dict.fromkeys(paras) if p]


# ------------------------------------------------------------- generated data ----


@dataclass
class Gen:
    fake: Faker
    rnd: random.Random
    people: list[str] = field(default_factory=list)  # private names put beside data in the current piece

    def person(self) -> str:
        name = str(self.fake.name())
        self.people.append(name)
        return name

    def id18(self) -> str:
        ssn = str(self.fake.ssn(min_age=1, max_age=95))  # type: ignore[call-arg]
        if self.rnd.random() < 0.15:  # a mistyped check digit (issue 14: still an ID)
            ssn = ssn[:-1] + self.rnd.choice([c for c in "0123456789X" if c != ssn[-1].upper()])
        return ssn if self.rnd.random() > 0.2 else ssn[:-1] + ssn[-1].lower()

    def id15(self) -> str:
        while True:
            s = str(self.fake.ssn(min_age=30, max_age=90))  # type: ignore[call-arg]
            if s[6:8] == "19":
                return s[:6] + s[8:17]

    def mobile(self) -> str:
        return str(self.fake.phone_number())

    def landline(self) -> tuple[str, str]:
        area = self.rnd.choice(["010", "021", "022", "023", "0571", "0579", "0574", "0755", "0351", "0931"])
        local = str(self.rnd.randint(2, 8)) + "".join(
            self.rnd.choice("0123456789") for _ in range(7 if len(area) == 3 else self.rnd.choice((6, 7)))
        )
        return area, local

    def card(self) -> str:
        kind = self.rnd.random()
        if kind < 0.4:
            number = str(self.fake.credit_card_number(card_type=self.rnd.choice(["unionpay", "visa", "mastercard"])))
            if 16 <= len(number) <= 19:
                return number
        prefix = self.rnd.choice(["622202", "622848", "621700", "622700", "623058", "625807", "623668", "9558801"])
        length = self.rnd.choice((16, 17, 18, 19))
        body = prefix + "".join(self.rnd.choice("0123456789") for _ in range(length - len(prefix) - 1))
        return next(body + d for d in "0123456789" if luhn_ok(body + d))

    def email(self) -> str:
        return str(self.fake.free_email() if self.rnd.random() < 0.6 else self.fake.email())


def spaced(s: str, groups: tuple[int, ...], sep: str = " ") -> str:
    out, i = [], 0
    for g in groups:
        out.append(s[i : i + g])
        i += g
    if i < len(s):
        out.append(s[i:])
    return sep.join(out)


def id_spelling(g: Gen, s: str) -> str:
    r = g.rnd.random()
    if r < 0.65:
        return s
    if r < 0.8:
        return spaced(s, (6, 8, 4), g.rnd.choice(" -"))
    if r < 0.9:
        return spaced(s, (6, 4, 4, 4), " ")
    return s.translate(FULL)


def mobile_spelling(g: Gen, s: str) -> str:
    r = g.rnd.random()
    if r < 0.55:
        return s
    if r < 0.65:
        return "+86 " + s
    if r < 0.7:
        return "+86-" + s
    if r < 0.8:
        return spaced(s, (3, 4, 4), "-")
    if r < 0.9:
        return spaced(s, (3, 4, 4), " ")
    return s.translate(FULL)


def card_spelling(g: Gen, s: str) -> str:
    r = g.rnd.random()
    if r < 0.6:
        return s
    if r < 0.9:
        return spaced(s, (4, 4, 4, 4), " ")
    return spaced(s, (4, 4, 4, 4), "-")


# Each positive: (label, builder -> (prefix text, sensitive span, suffix text)).
Piece = tuple[str, str, str]


def positives(g: Gen) -> list[tuple[str, Callable[[], Piece]]]:
    f = g.fake

    def id18() -> Piece:
        return (f"{g.person()}，身份证号：", id_spelling(g, g.id18()), f"，住址：{f.address()}。")

    def id18_table() -> Piece:
        return (f"{g.rnd.randint(1, 300)}\n{g.person()}\n", id_spelling(g, g.id18()), f"\n{f.city_name()}{f.street_name()}\n")

    def id15() -> Piece:
        return (f"申请人{g.person()}（身份证号码", g.id15(), "）已提交材料。")

    def mobile() -> Piece:
        return (f"联系人：{g.person()}，联系电话：", mobile_spelling(g, g.mobile()), "。")

    def mobile2() -> Piece:
        # Closed with 。: an unlabelled name (this official's, the next piece's) must not share a sentence with it.
        return (f"请{f.name()}同志于{g.rnd.randint(1, 28)}日前回电", mobile_spelling(g, g.mobile()), "确认。")

    def landline() -> Piece:
        area, local = g.landline()
        form = g.rnd.choice([f"{area}-{local}", f"（{area}）{local}", f"({area}){local}", f"{area} {local}", f"{area}{local}"])
        return ("咨询电话：", form, f"（{f.name()}）。")

    def email() -> Piece:
        return (f"{f.name()}的电子邮箱：", g.email(), "，欢迎来信。")

    def card() -> Piece:
        return (f"收款人：{g.person()}，开户行：{f.company()}，账号：", card_spelling(g, g.card()), "。")

    def card_plain() -> Piece:
        return (f"{g.person()}的银行卡", card_spelling(g, g.card()), "已登记。")

    return [
        ("id_card", id18),
        ("id_card", id18_table),
        ("id_card", id15),
        ("mobile", mobile),
        ("mobile", mobile2),
        ("landline", landline),
        ("email", email),
        ("bank_card", card),
        ("bank_card", card_plain),
    ]


MARKS = [
    "绝密★长期",
    "绝密★20年",
    "机密★10年",
    "机密★5年",
    "秘密★1年",
    "秘密★",
    "机密★",
    "秘密 ★ 6个月",
    "绝密",
    "机密",
    "秘密",
    "密级：秘密",
    "内部资料",
    "【内部资料】",
    "内部资料 注意保存",
    "内部资料，注意保管",
    "内部传阅",
    "（内部传阅）",
    "仅限内部传阅",
    "不予公开",
    "（不予公开）",
    "公开方式：不予公开",
    "此件不公开",
    "（此件不公开）",
]
# Marks that are only marks on a line of their own (a bare word in prose is not a mark).
OWN_LINE = {"绝密", "机密", "秘密", "内部资料", "不予公开"}


def uscc(r: random.Random) -> str:
    """An all-digit 统一社会信用代码 of a social organisation or institution, check digit included."""
    chars, weights = "0123456789ABCDEFGHJKLMNPQRTUWXY", (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    while True:
        body = r.choice(["51", "52", "53", "12"]) + "330784" + "".join(r.choice("0123456789") for _ in range(9))
        check = chars[(31 - sum(chars.index(c) * w for c, w in zip(body, weights, strict=True)) % 31) % 31]
        if check.isdigit():
            return body + check


def lookalikes(g: Gen) -> list[Callable[[], str]]:
    """Texts that must pass: numbers that look personal but are not, and prose about secrecy."""
    f, r = g.fake, g.rnd

    def index_no() -> str:
        return r.choice([
            f"索引号：330784ZF{r.randint(0, 999999):06d}/{r.randint(2008, 2026)}-{r.randint(1, 99999):05d}",
            f"索引号：{r.randint(0, 999999999):09d}/{r.randint(2008, 2026)}-{r.randint(1, 99999):05d}",
            f"索引号：11330784{r.randint(10**9, 10**10 - 1)}/{r.randint(2008, 2026)}-{r.randint(1, 99999)}",
        ])  # fmt: skip

    def doc_no() -> str:
        return f"文号：{r.choice(['永政发', '永政办发', '浙政发', '金政发'])}〔{r.randint(2008, 2026)}〕{r.randint(1, 200)}号"

    def dates() -> str:
        d = f.date_between("-15y", "+1y")
        return r.choice([f"{d:%Y-%m-%d}", f"{d:%Y年%m月%d日}", f"{d:%Y%m%d}", f"{d:%Y-%m-%d} 09:53", f"{d:%Y/%m/%d}"]) + "发布"

    def amounts() -> str:
        return r.choice([
            f"资金{r.randint(10**5, 10**10):,}.{r.randint(0, 99):02d}元",
            f"投资{r.randint(10**10, 10**12)}元",
            f"共计{r.randint(10**15, 10**18)}元",
            f"{r.randint(1, 9999)}.{r.randint(0, 99)}万元",
            f"{r.randint(10**10, 2 * 10**10)}元",
        ])  # fmt: skip

    def office() -> str:
        return r.choice(
            [
                f"咨询电话：{OFFICE_PHONE}",
                "电话：（0579）87101077",
                f"电子邮箱：{OFFICE_MAIL}",
                "监督电话：0579-87101078",
                "电话：87101077",
            ]
        )

    def masked() -> str:
        s, m = g.id18(), g.mobile()
        return r.choice(
            [
                f"身份证号：{s[:6]}********{s[-4:]}",
                f"{s[:3]}***********{s[-4:]}",
                f"手机：{m[:3]}****{m[-4:]}",
                f"卡号：6222 **** **** {r.randint(1000, 9999)}",
            ]
        )

    def codes() -> str:
        return r.choice([
            f"邮编：{r.randint(100000, 999999)}",
            f"统一社会信用代码：91330784MA{r.randint(10**6, 10**7 - 1)}X",
            f"统一社会信用代码：11330784{r.randint(10**8, 10**9 - 1)}{r.choice('0123456789X')}",
            f"统一社会信用代码：{uscc(r)}",
            f"营业执照注册号：330784{r.choice('06')}{r.randint(10**7, 10**8 - 1)}",
            f"网站标识码：{r.randint(10**9, 10**10 - 1)}",
            f"备案号：浙ICP备{r.randint(10**7, 10**8 - 1)}号",
            f"项目编号：YK{r.randint(2010, 2026)}-{r.randint(1, 9999):04d}",
            f"流水号：{r.randint(2010, 2026)}{r.randint(10**12, 10**13 - 1)}",
            f"统计期限自{r.randint(2008, 2026)}年1月1日起至12月31日止",
            f"第{r.randint(1, 100)}期，共{r.randint(1, 10**6)}人次",
        ])  # fmt: skip

    def prose() -> str:
        return r.choice([
            "对涉及国家秘密、商业秘密、个人隐私的政府信息依法不予公开。",
            "会议采取无记名秘密投票方式进行选举。",
            f"依申请公开答复中，不予公开{r.randint(0, 30)}件，部分公开{r.randint(0, 30)}件。",
            "此件公开发布。",
            "加强保密工作，严防失泄密事件发生。",
            "核发内部资料性出版物准印证。",
            "修订《机密文件管理办法》。",
            "严格执行保守国家秘密法。",
        ])  # fmt: skip

    def official() -> str:
        # An official named in their role beside words that make a unit personal (低保, 住院):
        # the name must pass.
        title = r.choice(["县民政局局长", "副县长", "县委书记", "镇长", "主任", "县残联理事长", "卫健局副局长"])
        return r.choice([
            f"{title}{g.fake.name()}出席低保工作会议并讲话",
            f"{g.fake.name()}{r.choice(['同志', '局长', '书记'])}带队走访慰问困难户和残疾人家庭",
            f"会议由{title}{g.fake.name()}主持，部署大病救助工作",
        ])  # fmt: skip

    def uscc_labelled() -> str:
        return f"统一社会信用代码：{r.choice(['91', '92', '93', '12', '11', '51', '52'])}{r.randint(10**15, 10**16 - 1)}"

    return [index_no, doc_no, dates, amounts, office, masked, codes, prose, official, uscc_labelled]


@dataclass
class Doc:
    text: str
    labels: list[tuple[str, int, int]] = field(default_factory=list)  # detector, start, end
    units: list[tuple[int, int]] = field(default_factory=list)  # table rows: the gate reads a row as one unit


def build_corpus(n_docs: int, seed: int = 1, carriers: list[str] | None = None) -> tuple[list[Doc], Counter[str]]:
    """``n_docs`` labelled documents and how many look-alikes of each kind went in."""
    rnd = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    g = Gen(fake, rnd)
    paras = carriers or real_paragraphs()
    pos, looks = positives(g), lookalikes(g)
    look_counts: Counter[str] = Counter()
    docs = []
    for _ in range(n_docs):
        doc = Doc("")
        parts: list[str] = []

        def add(text: str, label: str | None = None, span: tuple[int, int] | None = None, doc: Doc = doc, parts: list[str] = parts) -> None:
            offset = sum(len(p) for p in parts)
            if label and span:
                doc.labels.append((label, offset + span[0], offset + span[1]))
            parts.append(text)

        for _ in range(rnd.randint(3, 8)):
            para = rnd.choice(paras)
            # Cut the carrier at a sentence end and put the insertions there.
            cut = [m.end() for m in re.finditer(r"[。；！？]", para)] or [len(para)]
            at = rnd.choice(cut)
            add(para[:at])
            for _ in range(rnd.choice((0, 0, 1, 1, 2))):
                label, build = rnd.choice(pos)
                g.people.clear()
                before, value, after = build()
                piece = before + value + after
                offset = sum(len(p) for p in parts)
                for name in g.people:
                    at = piece.find(name)
                    if at >= 0:
                        doc.labels.append(("person_name", offset + at, offset + at + len(name)))
                if build.__name__ == "id18_table":
                    # A roster row, one cell a line: a Document's table row (row_units) or a spreadsheet's.
                    doc.units.append((offset, offset + len(piece) - 1))
                add(piece, label, (len(before), len(before) + len(value)))
            for _ in range(rnd.choice((0, 1, 1, 2))):
                make = rnd.choice(looks)
                look_counts[make.__name__] += 1
                add(make() + rnd.choice("，；。 "))
            add(para[at:] + "\n")
        if rnd.random() < 0.08:
            mark = rnd.choice(MARKS)
            head = mark + "\n" if mark in OWN_LINE or rnd.random() < 0.5 else mark + " "
            doc.labels.append(("classification", 0, len(mark)))
            parts.insert(0, head)
            doc.labels[:-1] = [(lab, s + len(head), e + len(head)) for lab, s, e in doc.labels[:-1]]
            doc.units = [(s + len(head), e + len(head)) for s, e in doc.units]
        doc.text = "".join(parts)
        docs.append(doc)
    return docs, look_counts


# ------------------------------------------------------------------- scoring ----


def evaluate(docs: list[Doc], show_errors: int = 0) -> dict[str, Counter[str]]:
    gate = build_gate(GateSettings(allow=ALLOW))
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    errors: list[str] = []
    for doc in docs:
        findings = gate.scan(doc.text, doc.units)
        for label, s, e in doc.labels:
            stats[label]["labels"] += 1
            if any(f.detector == label and f.start < e and s < f.end for f in findings):
                stats[label]["tp"] += 1
                stats[label]["exact"] += any(f.detector == label and (f.start, f.end) == (s, e) for f in findings)
            else:
                stats[label]["fn"] += 1
                errors.append(f"MISS {label}: {doc.text[max(0, s - 15) : e + 10]!r}")
        for f in findings:
            stats[f.detector]["found"] += 1
            if not any(lab == f.detector and f.start < e and s < f.end for lab, s, e in doc.labels):
                stats[f.detector]["fp"] += 1
                errors.append(f"FALSE {f.detector}: {f.text!r} in {doc.text[max(0, f.start - 15) : f.end + 10]!r}")
    for line in errors[:show_errors]:
        print(line)
    return stats


def table(stats: dict[str, Counter[str]]) -> list[str]:
    rows = [
        f"{'detector':<15}{'labels':>8}{'found':>8}{'TP':>8}{'FP':>6}{'FN':>6}{'recall':>10}{'precision':>11}{'exact span':>12}  target"
    ]
    for name in ("id_card", "mobile", "bank_card", "person_name", "landline", "email", "classification", "keyword"):
        c = stats.get(name, Counter())
        if not c:
            continue
        recall = c["tp"] / c["labels"] if c["labels"] else float("nan")
        precision = (c["found"] - c["fp"]) / c["found"] if c["found"] else float("nan")
        target = ""
        if name in TARGETS:
            r_min, p_min = TARGETS[name]
            target = "met" if recall >= r_min and precision >= p_min else "MISSED"
        elif name == "classification":
            target = "met" if c["fn"] == 0 else "MISSED"
        exact = c["exact"] / c["tp"] if c["tp"] else float("nan")
        counts = f"{c['labels']:>8}{c['found']:>8}{c['tp']:>8}{c['fp']:>6}{c['fn']:>6}"
        rows.append(f"{name:<15}{counts}{recall:>10.2%}{precision:>11.2%}{exact:>12.2%}  {target}")
    return rows


def marks_check() -> list[str]:
    """Every classification mark, alone on a line and at the head of a title, must be caught."""
    gate = build_gate(GateSettings())
    missed = [
        m for m in MARKS for text in (f"关于做好有关工作的通知\n{m}\n各乡镇人民政府：", f"{m}\n永政发〔2012〕12号") if not gate.scan(text)
    ]
    return [f"classification marks: {len(MARKS)} forms, {len(MARKS) * 2 - len(missed)}/{len(MARKS) * 2} placements caught"] + [
        f"  MISSED {m!r}" for m in missed
    ]


def stress(n: int, seed: int) -> list[str]:
    """Random digit strings of the lengths the detectors look for: how many the structure checks
    alone let through. Not part of the precision above (a random 11-digit 13… number *is* a
    well-formed mobile number); it shows what the region/date/check-digit and issuer/Luhn checks buy."""
    rnd = random.Random(seed)
    gate = build_gate(GateSettings())
    cases = {
        "18 digits, region-like start": lambda: str(rnd.randint(11, 65)) + "".join(rnd.choice("0123456789") for _ in range(16)),
        "15 digits": lambda: str(rnd.randint(10**14, 10**15 - 1)),
        "16-19 digits, any start": lambda: "".join(rnd.choice("0123456789") for _ in range(rnd.randint(16, 19))),
        "16-19 digits, starting 62": lambda: "62" + "".join(rnd.choice("0123456789") for _ in range(rnd.randint(14, 17))),
    }
    rows = [f"stress (random numbers, {n} each): share flagged by any detector"]
    for name, make in cases.items():
        flagged = Counter(f.detector for _ in range(n) for f in gate.scan(f"编号：{make()}。")[:1])
        rows.append(f"  {name:<28} {sum(flagged.values()) / n:>7.2%}  " + ", ".join(f"{k} {v}" for k, v in sorted(flagged.items())))
    return rows


# ------------------------------------------------------- look-alikes at scale ----


def lookalike_rates(n: int, seed: int, carriers: list[str]) -> list[str]:
    """``n`` look-alikes of each kind, each inside a real carrier sentence (a sentence with
    低保/住院 words for the officials), screened one by one: the share that raised any finding
    (the issue's false-alarm target, ≤ 0.5% per kind)."""
    rnd = random.Random(seed + 7)
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 7)
    g = Gen(fake, rnd)
    gate = build_gate(GateSettings(allow=ALLOW))
    rows = [f"look-alikes, {n} of each kind, each in a carrier sentence: share with any finding (target <= 0.50%)"]
    examples: list[str] = []
    carrier_findings: dict[str, set[tuple[str, str]]] = {}
    worst = 0.0
    for make in lookalikes(g):
        flagged = 0
        for _ in range(n):
            para = rnd.choice(carriers)
            cut = [m.end() for m in re.finditer(r"[。；！？]", para)] or [len(para)]
            at = rnd.choice(cut)
            text = para[:at] + make() + "。" + para[at:]
            # Carrier findings (the real text's own numbers) are not this look-alike's.
            if para not in carrier_findings:
                carrier_findings[para] = {(f.detector, f.text) for f in gate.scan(para)}
            base = carrier_findings[para]
            extra = [f for f in gate.scan(text) if (f.detector, f.text) not in base]
            if extra:
                flagged += 1
                if len(examples) < 6:
                    examples.append(f"  FALSE {make.__name__}: {extra[0].detector} {extra[0].text!r}")
        rate = flagged / n
        worst = max(worst, rate)
        rows.append(f"  {make.__name__:<15} {flagged:>5}/{n}  {rate:>7.2%}  {'met' if rate <= 0.005 else 'MISSED'}")
    return rows + examples


# -------------------------------------------------------------- attachments ----


def _roster(g: Gen, rows: int) -> tuple[list[list[str]], list[tuple[str, str]]]:
    """A 低保/公租房 roster: header and rows, and its labelled values (detector, text)."""
    header = ["序号", "姓名", "身份证号码", "联系电话", "银行账号", "类别", "住址"]
    table, labels = [header], []
    for i in range(rows):
        name, ssn, phone, acct = g.fake.name(), g.id18(), g.mobile(), g.card()
        table.append([str(i + 1), name, ssn, phone, acct, g.rnd.choice(["低保", "特困", "残疾", "公租房"]), g.fake.address()])
        labels += [("person_name", name), ("id_card", ssn), ("mobile", phone), ("bank_card", acct)]
    return table, labels


def _xlsx_bytes(table: list[list[str]], numeric_ids: bool) -> bytes:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r, row in enumerate(table):
        # Some clerks type IDs and phones into number cells: Excel keeps them as doubles.
        ws.append([float(c) if numeric_ids and r and c.isdigit() and len(c) >= 11 else c for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _docx_bytes(table: list[list[str]]) -> bytes:
    import io

    import docx

    d = docx.Document()
    d.add_paragraph("2026年城乡最低生活保障对象名单公示")
    t = d.add_table(rows=0, cols=len(table[0]))
    for row in table:
        cells = t.add_row().cells
        for c, v in zip(cells, row, strict=True):
            c.text = v
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _pdf_bytes(table: list[list[str]]) -> bytes:
    """A one-page PDF roster with a real text layer (matplotlib, Noto CJK embedded as TrueType)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    matplotlib.rcParams["pdf.fonttype"] = 42
    fonts = sorted(f for f in font_manager.findSystemFonts() if "NotoSansCJK-Regular" in f or "NotoSansCJKsc-Regular" in f)
    if not fonts:
        raise RuntimeError("no Noto Sans CJK font for the PDF attachments (apt-get install fonts-noto-cjk)")
    fp = font_manager.FontProperties(fname=fonts[0], size=6)
    fig = plt.figure(figsize=(8.27, 11.69))
    for i, row in enumerate(table):
        fig.text(0.03, 0.96 - i * 0.03, "  ".join(row[:6]), fontproperties=fp)  # the address column left off: A4 width
    buf = io.BytesIO()
    fig.savefig(buf, format="pdf")
    plt.close(fig)
    return buf.getvalue()


def attachment_rates(n: int, seed: int) -> list[str]:
    """``n`` rosters attached as XLSX (a third with IDs typed into number cells), DOCX and PDF,
    screened as the screen stage does (``screen_with_attachments``): the share of the rosters'
    values (names, IDs, mobiles, accounts) the attachment findings cover, and of items held."""
    from pusher.gate import screen_with_attachments
    from pusher.interfaces import Action, Block, Document

    rnd = random.Random(seed + 11)
    fake = Faker("zh_CN")
    fake.seed_instance(seed + 11)
    g = Gen(fake, rnd)
    gate = build_gate(GateSettings(allow=ALLOW))
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    held = 0
    misses: list[str] = []
    for i in range(n):
        table, labels = _roster(g, rnd.randint(3, 12))
        kind = ("xlsx", "docx", "pdf")[i % 3]
        numeric = kind == "xlsx" and i % 9 == 0
        if kind == "pdf":
            labels = [(d, v) for d, v in labels]  # every column but the address is on the page
        data = {
            "xlsx": lambda t=table, nm=numeric: _xlsx_bytes(t, nm),
            "docx": lambda t=table: _docx_bytes(t),
            "pdf": lambda t=table: _pdf_bytes(t),
        }[kind]()
        doc = Document(url=f"http://portal.invalid/{i}.html", title="低保对象名单公示", blocks=(Block("p", text="名单见附件。"),))
        verdict = screen_with_attachments(gate, doc, [(f"名单{i}.{kind}", data)])
        held += verdict.action in (Action.HOLD, Action.BLOCK)
        got = [f for f in verdict.findings if getattr(f, "source", "")]
        for det, value in labels:
            key = f"{det} ({kind})"
            total[key] += 1
            digits = re.sub(r"\D", "", value)
            # A number typed into a number cell comes out rounded to 15 digits (…194000): the first 12 name it.
            # A number counts as covered by any number detector's finding (a roster's 18-digit
            # account may be taken for an ID): the item is held and the reviewer sees it either way.
            hit = any(
                (f.detector == det or (det != "person_name" and f.detector in ("id_card", "bank_card", "mobile")))
                and (f.text == value or (digits and re.sub(r"\D", "", f.text)[:12] == digits[:12]))
                for f in got
            )
            found[key] += hit
            if not hit and len(misses) < 6:
                misses.append(f"  MISS {key}: {value!r}")
    rows = [f"attachments: {n} rosters (XLSX, DOCX, PDF), {held}/{n} items held"]
    all_found, all_total = sum(found.values()), sum(total.values())
    for key in sorted(total):
        rows.append(f"  {key:<24} {found[key]:>5}/{total[key]:<5} {found[key] / total[key]:>8.2%}")
    share = all_found / all_total
    rows.append(f"  {'all values':<24} {all_found:>5}/{all_total:<5} {share:>8.2%}  {'met' if share >= 0.99 else 'MISSED'}")
    return rows + misses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--show-errors", type=int, default=10)
    ap.add_argument("--lookalikes", type=int, default=2000, help="look-alikes of each kind for the false-alarm rates (0: skip)")
    ap.add_argument("--attachments", type=int, default=150, help="generated XLSX/DOCX/PDF rosters (0: skip)")
    args = ap.parse_args()
    carriers = real_paragraphs()
    docs, looks = build_corpus(args.docs, args.seed, carriers)
    chars = sum(len(d.text) for d in docs)
    print(f"corpus: {len(docs)} documents, {chars:,} characters, {len(carriers)} real carrier paragraphs, seed {args.seed}")
    print("look-alikes inserted (must pass): " + ", ".join(f"{k} {v}" for k, v in sorted(looks.items())))
    stats = evaluate(docs, args.show_errors)
    print("\n".join(table(stats)))
    print("\n".join(marks_check()))
    print("\n".join(stress(20000, args.seed)))
    if args.lookalikes:
        print("\n".join(lookalike_rates(args.lookalikes, args.seed, carriers)))
    if args.attachments:
        print("\n".join(attachment_rates(args.attachments, args.seed)))


if __name__ == "__main__":
    main()
