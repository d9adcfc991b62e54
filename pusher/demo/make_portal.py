"""Regenerate the bundled sample portal (``pusher/demo/portal``): ``python -m pusher.demo.make_portal``.

A small static site in the layout of a Zhejiang county portal running Hanweb jcms: column
lists at ``/col/col{ID}/index.html`` (col1006 with its records in an embedded
``<datastore>``, as Hanweb really serves them; a TRS WCM-style 信息公开 column under
``/zfxxgk/fdzdgknr/``), articles at ``/art/Y/M/D/art_{col}_{id}.html`` with the body
in ``div#zoom`` and a 信息公开 metadata table. The 村务公开 column is served in GB18030, as many
township sites still are. The annual report (from the source document) carries a table.
"""

from __future__ import annotations

import html
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE / "portal"
REPORT = HERE / "annual_report.txt"

COLUMNS = {
    1001: ("通知公告", "utf-8"),
    1002: ("政策文件", "utf-8"),
    1003: ("村务公开", "gb18030"),
    1004: ("党务公开", "utf-8"),
    1005: ("政务服务", "utf-8"),
}

# (column, id, date, title, publisher, 文号, 主题分类, paragraphs)
ITEMS: list[tuple[int, int, str, str, str, str, str, list[str]]] = [
    (
        1001,
        5101,
        "2026-11-20",
        "关于2026年冬季森林防火工作的通告",
        "市应急管理局",
        "",
        "安全生产",
        [
            "为切实做好今冬明春森林防火工作，保护森林资源和人民群众生命财产安全，根据《森林防火条例》有关规定，现将有关事项通告如下。",
            "一、2026年11月1日至2027年4月30日为全市森林防火期，其中春节、清明期间为森林高火险期。",
            "二、森林防火期内，禁止在林区野外吸烟、烧香烧纸、燃放烟花爆竹、烧荒烧炭等一切野外用火行为。",
            "三、发现森林火情，请立即拨打森林火警电话12119或110报警。",
        ],
    ),
    (
        1001,
        5102,
        "2026-11-18",
        "永康市2026年秋季征兵工作公告",
        "市人民政府征兵办公室",
        "",
        "综合政务",
        [
            "根据上级征兵命令，我市2026年秋季征兵工作即日开始，现将有关事项公告如下。",
            "征集对象以大学毕业生为重点，年龄为18至22周岁，大学毕业生可放宽至24周岁。",
            "应征青年可登录“全国征兵网”进行网上报名，并按要求参加体格检查和政治考核。",
        ],
    ),
    (
        1001,
        5103,
        "2026-11-15",
        "关于调整城区部分公交线路的公告",
        "市交通运输局",
        "",
        "交通运输",
        [
            "为方便市民出行，优化城区公交线网布局，经研究决定，自2026年12月1日起对K3路、K7路、12路公交线路进行调整。",
            "K3路：延伸至永康高铁站，首班时间6:00，末班时间21:30。",
            "K7路：取消华丰路站，增设金城路口站。",
            "12路：发车间隔由15分钟缩短至10分钟。",
        ],
    ),
    (
        1001,
        5104,
        "2026-11-12",
        "2026年度城乡居民基本医疗保险参保缴费工作的通知",
        "市医疗保障局",
        "永医保发〔2026〕21号",
        "卫生健康",
        [
            "2027年度城乡居民基本医疗保险集中参保缴费期为2026年9月1日至12月31日。",
            "个人缴费标准为每人每年400元，困难群体参保个人缴费部分由政府给予全额或部分资助。",
            "参保人员可通过“浙里办”APP、银行网点或所在村（社区）便民服务中心缴费。",
            "咨询电话：0579-87101077。",
        ],
    ),
    (
        1001,
        5105,
        "2026-11-08",
        "关于开展2026年度冬季消防安全大检查的通知",
        "市消防救援大队",
        "",
        "安全生产",
        [
            "为有效预防和遏制火灾事故，市消防救援大队决定于11月至12月在全市范围内开展冬季消防安全大检查。",
            "检查重点为人员密集场所、出租房屋、“三小”场所及电动自行车集中停放充电场所。",
        ],
    ),
    (
        1002,
        5201,
        "2026-11-19",
        "永康市人民政府关于印发永康市促进五金产业高质量发展若干政策的通知",
        "市政府办公室",
        "永政发〔2026〕38号",
        "工业、交通",
        [
            "各镇人民政府、街道办事处，市政府各部门：",
            "《永康市促进五金产业高质量发展若干政策》已经市政府常务会议审议通过，现印发给你们，请认真贯彻执行。",
            "一、支持企业技术改造。对当年完成设备投资500万元以上的技术改造项目，按设备投资额的10%给予补助，单个项目最高补助300万元。",
            "二、支持企业研发创新。对新认定的国家级、省级企业技术中心，分别给予100万元、50万元奖励。",
            "三、本政策自2027年1月1日起施行，有效期至2029年12月31日。",
        ],
    ),
    (
        1002,
        5202,
        "2026-11-10",
        "永康市人民政府办公室关于进一步加强农村生活垃圾分类处理工作的实施意见",
        "市政府办公室",
        "永政办发〔2026〕57号",
        "城乡建设、环境保护",
        [
            "为深入推进农村生活垃圾分类处理工作，提升农村人居环境质量，结合我市实际，提出如下实施意见。",
            "到2027年底，全市农村生活垃圾分类处理行政村覆盖率达到100%，回收利用率达到60%以上。",
            "各镇（街道）要落实属地管理责任，建立“村收集、镇转运、市处理”的垃圾收运体系。",
        ],
    ),
    (
        1002,
        5203,
        "2026-10-30",
        "永康市财政局关于公开2026年市级部门预算的通知",
        "市财政局",
        "永财预〔2026〕9号",
        "财政、金融、审计",
        [
            "根据《中华人民共和国预算法》规定，现将2026年市级部门预算予以公开。",
            "2026年市级一般公共预算收入安排65.3亿元，支出安排98.7亿元。",
            "各部门预算公开内容包括部门收支总表、一般公共预算支出表、政府性基金预算支出表和“三公”经费预算表。",
        ],
    ),
    (
        1002,
        5204,
        "2026-10-22",
        "永康市保障性租赁住房管理办法",
        "市住房和城乡建设局",
        "永建〔2026〕44号",
        "城乡建设、环境保护",
        [
            "第一条　为规范保障性租赁住房管理，解决新市民、青年人等群体住房困难，制定本办法。",
            "第二条　保障性租赁住房以建筑面积不超过70平方米的小户型为主，租金低于同地段同品质市场租赁住房租金。",
            "第三条　申请人在本市无自有住房，且在本市就业或创业的，可以申请保障性租赁住房。",
        ],
    ),
    (
        1003,
        5301,
        "2026-11-21",
        "芝英镇2026年第三季度村级财务收支公开",
        "芝英镇人民政府",
        "",
        "村务公开",
        [
            "根据村务公开有关规定，现将芝英镇各行政村2026年第三季度财务收支情况公开如下，接受群众监督。",
            "本季度各村集体经济收入合计1286.4万元，支出合计973.2万元，其中公益事业支出412.5万元。",
            "群众如有疑问，请在公开之日起15日内向镇农村集体“三资”管理服务中心反映。",
        ],
    ),
    (
        1003,
        5302,
        "2026-11-14",
        "古山镇关于2026年度农村困难家庭危房改造补助对象的公示",
        "古山镇人民政府",
        "",
        "村务公开",
        [
            "经农户申请、村民代表会议评议、镇政府审核，拟确定以下3户为2026年度农村困难家庭危房改造补助对象，现予以公示。",
            "胡建国　前黄村　身份证号：330784196503121234",
            "应秀英　后吴村　身份证号：330784195809072143",
            "吕志明　大路村　身份证号：330784197201253017",
            "公示期为2026年11月14日至11月20日。公示期间如有异议，请向古山镇人民政府民政办反映。",
            "联系电话：0579-87123456。",
        ],
    ),
    (
        1003,
        5303,
        "2026-11-06",
        "唐先镇2026年度村庄道路硬化工程招标结果公示",
        "唐先镇人民政府",
        "",
        "招投标",
        [
            "唐先镇2026年度村庄道路硬化工程已于2026年11月3日在市公共资源交易中心公开招标，现将中标结果公示如下。",
            "中标单位：永康市通达建设有限公司；中标价：386.52万元；工期：120日历天。",
        ],
    ),
    (
        1003,
        5304,
        "2026-10-28",
        "方岩镇关于征收集体土地的预公告",
        "方岩镇人民政府",
        "",
        "征地拆迁",
        [
            "因永康市方岩至石柱公路改建工程建设需要，拟征收方岩镇橙麓村、岩下村部分集体土地，现将有关事项预公告如下。",
            "拟征收土地面积约3.26公顷，自本预公告发布之日起，在拟征收土地范围内暂停办理户口迁入、分户，暂停新建、改建、扩建房屋。",
        ],
    ),
    (
        1004,
        5401,
        "2026-11-17",
        "中共永康市委关于深入学习贯彻党的二十届四中全会精神的通知",
        "中共永康市委办公室",
        "永委〔2026〕31号",
        "党务公开",
        [
            "各镇（街道、区）党（工）委，市直各单位党组（党委），各人民团体：",
            "为深入学习贯彻党的二十届四中全会精神，现就有关事项通知如下。",
            "各级党组织要把学习贯彻全会精神作为当前和今后一个时期的重要政治任务，精心组织，周密安排。",
        ],
    ),
    (
        1004,
        5402,
        "2026-11-05",
        "关于2026年度市管干部任前公示的公告",
        "中共永康市委组织部",
        "",
        "党务公开",
        [
            "根据《党政领导干部选拔任用工作条例》，经市委研究，现将拟任职干部情况予以公示。",
            "公示时间为2026年11月5日至11月11日（5个工作日）。",
            "对公示对象如有情况反映，可通过来电、来信、来访等方式向市委组织部干部监督科反映。",
        ],
    ),
    (
        1004,
        5403,
        "2026-10-25",
        "永康市2026年第三季度党费收缴使用管理情况公开",
        "中共永康市委组织部",
        "",
        "党务公开",
        [
            "根据党费收缴、使用和管理的有关规定，现将我市2026年第三季度党费收缴使用管理情况公开如下。",
            "本季度全市收缴党费386.2万元，下拨基层党组织使用党费120.0万元，主要用于困难党员慰问和党员教育培训。",
        ],
    ),
    (
        1005,
        5501,
        "2026-11-22",
        "市民卡线上办理服务指南",
        "市行政服务中心",
        "",
        "政务服务",
        [
            "办理事项：市民卡申领、补换、挂失。",
            "办理渠道：“浙里办”APP搜索“市民卡”，或携带身份证到市行政服务中心一楼综合窗口办理。",
            "办理时限：即办件，卡片制作完成后7个工作日内可领取。",
        ],
    ),
    (
        1005,
        5502,
        "2026-11-16",
        "不动产登记“一件事”集成服务办事指南",
        "市自然资源和规划局",
        "",
        "政务服务",
        [
            "房屋交易、税费缴纳、不动产登记实现“一窗受理、一次办结”，办理时间压缩至1个工作日以内。",
            "所需材料：身份证明、不动产权属证书、买卖合同。",
        ],
    ),
    (
        1005,
        5503,
        "2026-11-09",
        "企业开办全流程“一日办结”服务指南",
        "市市场监督管理局",
        "",
        "政务服务",
        [
            "企业设立登记、印章刻制、发票申领、社保登记和银行预约开户实现全流程一日办结。",
            "申请人可通过“浙江政务服务网”企业开办专区全程网上办理。",
        ],
    ),
    (
        1005,
        5504,
        "2026-11-02",
        "城乡居民养老保险待遇领取资格认证服务指南",
        "市人力资源和社会保障局",
        "",
        "政务服务",
        [
            "领取城乡居民养老保险待遇的人员，每年需进行一次领取资格认证。",
            "可通过“浙里办”APP刷脸认证，也可到村（社区）便民服务中心由工作人员协助认证。",
        ],
    ),
    (
        1001,
        5106,
        "2026-11-03",
        "永康市2026年10月环境空气质量状况",
        "市生态环境局",
        "",
        "城乡建设、环境保护",
        [
            "2026年10月，我市环境空气质量优良天数比例为96.8%，PM2.5平均浓度为24微克/立方米，同比下降7.7%。",
            "首要污染物为臭氧，主要出现在午后时段。",
        ],
    ),
    (
        1002,
        5205,
        "2026-10-18",
        "永康市食品安全“你点我检”活动结果公示",
        "市市场监督管理局",
        "",
        "食品安全",
        [
            "根据市民投票结果，本期抽检蔬菜、水产品、熟食制品等6大类食品共120批次。",
            "经检验，合格118批次，不合格2批次，不合格产品已依法处置。",
        ],
    ),
]


def page(title: str, charset: str, crumb: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">
<title>{html.escape(title)}_永康市人民政府</title>
{body.split("<!--HEAD-->")[0] if "<!--HEAD-->" in body else ""}</head>
<body><div class="top">中国永康 · 永康市人民政府门户网站</div>
<div class="crumb">您当前所在位置：<a href="/index.html">首页</a> &gt;&gt; 政务公开 &gt;&gt; {html.escape(crumb)}</div>
{body.split("<!--HEAD-->")[-1]}
<div class="foot">主办：永康市人民政府办公室　网站标识码：3307840001</div>
</body></html>
"""


def article(col: int, item: tuple, charset: str) -> str:
    _, aid, date, title, publisher, doc_no, topic, paras = item
    y = date[:4]
    meta = f"""<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{date} 09:30">
<meta name="ContentSource" content="{html.escape(publisher)}">
<meta name="ColumnName" content="{COLUMNS[col][0]}">
<meta name="Maketime" content="2026-11-27 03:00:00">
<!--HEAD-->"""
    pub = html.escape(publisher)
    table = f"""<table class="xxgk"><tr><td>索引号</td><td>330784{aid:06d}/{y}-{aid}</td><td>发布机构</td><td>{pub}</td></tr>
<tr><td>文号</td><td>{html.escape(doc_no)}</td><td>主题分类</td><td>{html.escape(topic)}</td></tr>
<tr><td>发布日期</td><td>{date}</td><td>有效性</td><td>有效</td></tr></table>"""
    body = "\n".join(f"<p>　　{html.escape(p)}</p>" for p in paras)
    return page(
        title,
        charset,
        COLUMNS[col][0],
        meta
        + f"""{table}
<h1 class="title">{html.escape(title)}</h1>
<div id="zoom">
{body}
</div>""",
    )


def report_article() -> str:
    text = REPORT.read_text(encoding="utf-8")
    # The saved page begins with the portal's chrome (breadcrumb, metadata, share links): the
    # report proper starts after "分享到:" and its repeated title.
    lines = [p.strip() for p in text.split("\n") if p.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("分享到")) + 2
    paras = lines[start:]
    rows = [
        ("统计项", "数量（条）", "占比"),
        ("政策法规", "312", "2.1%"),
        ("发文类", "3215", "21.2%"),
        ("其他类别", "11616", "76.7%"),
        ("合计", "15146", "100%"),
    ]
    table = '<table border="1">' + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows) + "</table>"
    body = []
    for p in paras:
        body.append(f"<p>　　{html.escape(p)}</p>")
        if "我市主动公开的信息15146条" in p:
            body.append(table)
    meta = """<meta name="ArticleTitle" content="永康市2012年度政府信息公开年度报告">
<meta name="PubDate" content="2013-03-29 00:00">
<meta name="ContentSource" content="市政府及办公室">
<meta name="ColumnName" content="公开年报">
<!--HEAD-->"""
    info = """<table class="xxgk"><tr><td>索引号</td><td>330784ZF060000/2013-13135</td><td>发布机构</td><td>市政府及办公室</td></tr>
<tr><td>文号</td><td></td><td>主题分类</td><td>综合政务</td></tr><tr><td>发布日期</td><td>2013-03-29</td><td>有效性</td><td></td></tr></table>"""
    return page("永康市2012年度政府信息公开年度报告", "utf-8", "公开年报", meta + info + '<div id="zoom">' + "\n".join(body) + "</div>")


def column_page(col: int, entries: list[tuple[str, str, str]], charset: str) -> str:
    lis = "\n".join(
        f'<li><a href="{href}" title="{html.escape(t)}" target="_blank">'
        f"{html.escape(t if len(t) <= 24 else t[:24] + '...')}</a><span>{d}</span></li>"
        for href, t, d in entries
    )
    return page(COLUMNS[col][0], charset, COLUMNS[col][0], f'<div class="list"><ul class="xxgk-list">\n{lis}\n</ul></div>')


# The Hanweb-style column: records in a <datastore> embedded in the column page (all of them
# fit, so the static demo server needs no dataproxy.jsp), articles with <!--<$[…]>--> markers.
HANWEB_COL = (1006, "重点领域信息公开")
# (id, date, title, publisher, 主题分类, paragraphs, attachment name or "")
HANWEB_ITEMS: list[tuple[int, str, str, str, str, list[str], str]] = [
    (5601, "2026-11-24", "永康市2026年前三季度财政预算执行情况", "市财政局", "财政",
     ["1-9月，全市一般公共预算收入完成68.2亿元，同比增长5.6%，完成年度预算的79.3%。",
      "一般公共预算支出完成72.5亿元，同比增长4.1%，其中民生支出占比达到78.6%。",
      "下一步，市财政局将继续加强收入征管，优化支出结构，保障重点民生项目资金需求。"], ""),
    (5602, "2026-11-23", "永康市2026年第三批公共租赁住房保障对象公示", "市住房和城乡建设局", "保障性住房",
     ["经个人申请、镇（街道）初审和市住房保障部门复核，现将2026年第三批公共租赁住房保障对象名单予以公示。",
      "公示期为2026年11月23日至12月2日。如有异议，请在公示期内向市住房保障中心书面反映。"], ""),
    (5603, "2026-11-19", "永康市城区管道天然气价格调整听证会公告", "市发展和改革局", "价格收费",
     ["根据《政府制定价格听证办法》，我局定于2026年12月10日召开城区管道天然气价格调整听证会。",
      "听证会参加人由消费者、经营者、专家学者等组成，现公开征集消费者参加人12名。"], ""),
    (5604, "2026-11-13", "永康市2026年11月建设工程招标公告汇总", "市公共资源交易中心", "招投标",
     ["本月共发布建设工程招标公告18项，总投资额约4.3亿元，详见附件。",
      "投标人可登录市公共资源交易平台下载招标文件，并按要求提交投标保证金。"], "2026年11月建设工程招标公告汇总表.xlsx"),
    (5605, "2026-11-07", "永康市2026年第四季度安全生产大检查工作方案", "市应急管理局", "安全生产",
     ["为有效防范和遏制各类生产安全事故，决定在全市范围内开展第四季度安全生产大检查。",
      "检查重点为危险化学品、建筑施工、消防、交通运输和五金制造企业粉尘防爆等领域。",
      "各镇（街道）、各部门要于12月20日前将检查情况报市安委会办公室。"], ""),
]  # fmt: skip

# The TRS-style column: index.html and index_1.html driven by createPageHTML(), articles at
# ./{yyyymm}/t{yyyymmdd}_{id}.html with the body in .TRS_Editor and <p><strong> metadata.
TRS_DIR = "zfxxgk/fdzdgknr"
TRS_NAME = "法定主动公开内容"
TRS_PER_PAGE = 3
# (id, date, title, publisher, 文号, 主题分类, paragraphs, attachment name or "")
TRS_ITEMS: list[tuple[int, str, str, str, str, str, list[str], str]] = [
    (5701, "2026-11-25", "永康市人民政府关于公布2026年度征地区片综合地价的通知", "市自然资源和规划局", "永政发〔2026〕41号", "征地拆迁",
     ["根据《中华人民共和国土地管理法》和省政府有关规定，现将我市2026年度征地区片综合地价予以公布。",
      "本通知自公布之日起施行，此前已依法批准征收的土地，仍按原标准执行。"], ""),
    (5702, "2026-11-21", "永康市2026年第三季度重点排污单位监督性监测结果公示", "市生态环境局", "", "环境",
     ["2026年第三季度，我局对全市42家重点排污单位开展了监督性监测，其中废水排放单位25家，废气排放单位17家。",
      "监测结果显示，41家单位达标排放，1家单位废气排放超标，已依法责令其限期整改。"], ""),
    (5703, "2026-11-17", "永康市2026年第三季度食品安全监督抽检信息公告", "市市场监督管理局", "", "食品安全",
     ["本季度共抽检食品样品860批次，合格样品846批次，总体合格率为98.4%。",
      "对抽检不合格的食品，我局已责令经营者立即下架，并依法进行调查处理。"], ""),
    (5704, "2026-11-11", "永康市人民政府办公室关于印发2026年政务公开工作要点的通知", "市政府办公室", "永政办发〔2026〕60号", "综合政务",
     ["各镇人民政府、街道办事处，市政府各部门：", "《永康市2026年政务公开工作要点》已经市政府同意，现印发给你们，请认真贯彻落实。"],
     "永康市2026年政务公开工作要点.docx"),
    (5705, "2026-11-04", "永康市2026年1-10月主要经济指标", "市统计局", "", "统计",
     ["1-10月，全市规模以上工业增加值同比增长6.8%，社会消费品零售总额同比增长5.2%。",
      "固定资产投资同比增长7.4%，其中工业投资增长9.1%。"], ""),
    (5706, "2026-10-27", "永康市人民政府关于公布2026年度政府定价目录的通知", "市发展和改革局", "永政发〔2026〕36号", "价格收费",
     ["为规范政府定价行为，现将《永康市定价目录（2026年版）》予以公布，自2026年11月1日起施行。"], ""),
]  # fmt: skip


def hanweb_article(item: tuple[int, str, str, str, str, list[str], str]) -> str:
    aid, date, title, publisher, topic, paras, attachment = item
    cname = HANWEB_COL[1]
    meta = f"""<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{date} 16:20">
<meta name="ColumnName" content="{cname}">
<meta name="Maketime" content="2026-11-27 03:00:00">
<!--HEAD-->"""
    att = ""
    if attachment:
        name = html.escape(attachment)
        att = f'<p>附件：<a href="/module/download/downfile.jsp?classid=0&filename={aid}.xlsx" title="{name}">{name}</a></p>'
    body = "\n".join(f"<p>　　{html.escape(p)}</p>" for p in paras)
    return page(
        title,
        "utf-8",
        cname,
        meta
        + f"""<table class="xxgk"><tr><td>索引号</td><td>330784{aid:06d}/{date[:4]}-{aid}</td><td>主题分类</td><td>{topic}</td></tr></table>
<div class="title"><!--<$[标题]>begin-->{html.escape(title)}<!--<$[标题]>end--></div>
<div class="info"><span>发布日期：{date}</span>
<span>信息来源：<!--<$[信息来源]>begin-->{html.escape(publisher)}<!--<$[信息来源]>end--></span></div>
<div id="zoom"><!--<$[信息内容]>begin-->{body}<!--<$[信息内容]>end--></div>{att}""",
    )


def hanweb_column(entries: list[tuple[str, str, str]]) -> str:
    col, cname = HANWEB_COL
    records = "\n".join(
        f'<record><![CDATA[<li><a href="{href}" title="{html.escape(t)}" target="_blank">'
        f"{html.escape(t if len(t) <= 20 else t[:20] + '...')}"
        f"</a><b>{d}</b></li>]]></record>"
        for href, t, d in entries
    )
    store = f"""<div id="{col}88"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid={col}&unitid={col}88&permissiontype=0">\
</a>]]></nextgroup>
<totalrecord>{len(entries)}</totalrecord>
<recordset>
{records}
</recordset></datastore></script>
<script language="javascript" src="/module/jpage/jpage.js"></script></div>"""
    return page(cname, "utf-8", cname, f'<meta name="ColumnName" content="{cname}">\n<!--HEAD-->{store}')


def trs_href(item: tuple[int, str, str, str, str, str, list[str], str]) -> str:
    aid, date = item[0], item[1]
    return f"./{date[:4]}{date[5:7]}/t{date.replace('-', '')}_{aid}.html"


def trs_article(item: tuple[int, str, str, str, str, str, list[str], str]) -> str:
    aid, date, title, publisher, doc_no, topic, paras, attachment = item
    y, m, d = date.split("-")
    meta = f"""<meta name="ArticleTitle" content="{html.escape(title)}">
<meta name="PubDate" content="{y}年{m}月{d}日">
<meta name="ContentSource" content="{html.escape(publisher)}">
<meta name="ColumnName" content="{TRS_NAME}">
<!--HEAD-->"""
    info = f"""<div class="xxgk-info">
<p><strong>索引号</strong>：330784ZF{aid:06d}/{y}-{aid}</p><p><strong>发布机构</strong>：{html.escape(publisher)}</p>
<p><strong>文号</strong>：{html.escape(doc_no) or "无"}</p><p><strong>主题分类</strong>：{topic}</p>
<p><strong>成文日期</strong>：{y}年{m}月{int(d) - 1 if int(d) > 1 else 1:02d}日</p><p><strong>发布日期</strong>：{y}年{m}月{d}日</p>
<p><strong>有效性</strong>：有效</p></div>"""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    att = f'<p>附件：<a href="./P0{aid}.docx">{html.escape(attachment)}</a></p>' if attachment else ""
    return page(title, "utf-8", TRS_NAME, meta + info + f'<h1>{html.escape(title)}</h1><div class="TRS_Editor">{body}</div>{att}')


def trs_list(items: list[tuple[int, str, str, str, str, str, list[str], str]], current: int, pages: int) -> str:
    rows = "\n".join(
        f'<tr><td><a href="{trs_href(i)}" title="{html.escape(i[2])}">{html.escape(i[2])}</a></td>'
        f"<td>330784ZF{i[0]:06d}/{i[1][:4]}-{i[0]}</td><td>{html.escape(i[3])}</td><td>{i[1]}</td></tr>"
        for i in items
    )
    table = f"""<table class="xxgk-table"><tr><th>名称</th><th>索引号</th><th>发布机构</th><th>发布日期</th></tr>
{rows}</table>
<div class="page"><script>createPageHTML({pages}, {current}, "index", "html");</script></div>"""
    return page(TRS_NAME, "utf-8", TRS_NAME, f'<meta name="ColumnName" content="{TRS_NAME}">\n<!--HEAD-->{table}')


def write_hanweb_and_trs() -> None:
    entries: list[tuple[str, str, str]] = []
    for item in HANWEB_ITEMS:
        aid, date = item[0], item[1]
        y, m, d = (int(x) for x in date.split("-"))
        href = f"/art/{y}/{m}/{d}/art_{HANWEB_COL[0]}_{aid}.html"
        (ROOT / href.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (ROOT / href.lstrip("/")).write_text(hanweb_article(item), encoding="utf-8")
        entries.append((href, item[2], date))
    col = ROOT / f"col/col{HANWEB_COL[0]}/index.html"
    col.parent.mkdir(parents=True, exist_ok=True)
    col.write_text(hanweb_column(entries), encoding="utf-8")

    base = ROOT / TRS_DIR
    pages = (len(TRS_ITEMS) + TRS_PER_PAGE - 1) // TRS_PER_PAGE
    for n in range(pages):
        chunk = TRS_ITEMS[n * TRS_PER_PAGE : (n + 1) * TRS_PER_PAGE]
        base.mkdir(parents=True, exist_ok=True)
        (base / ("index.html" if n == 0 else f"index_{n}.html")).write_text(trs_list(chunk, n, pages), encoding="utf-8")
        for trs_item in chunk:
            path = base / trs_href(trs_item)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(trs_article(trs_item), encoding="utf-8")


def write_attachments() -> None:
    """Real attachment files, so the gate reads them as it reads a portal's: the Hanweb one behind
    downfile.jsp (the static server ignores the query, as the CMS's script does not), the TRS one
    beside its article. Neither holds personal data."""
    import io

    import docx
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["序号", "项目名称", "招标人", "估算金额（万元）", "公告日期"])
    tenders = [("城西新区道路提升改造工程", "市交通投资集团", 8600), ("五金科技园二期厂房建设工程", "市经济开发区管委会", 12400),
               ("芝英镇污水管网延伸工程", "芝英镇人民政府", 2300)]  # fmt: skip
    for n, (name, owner, amount) in enumerate(tenders, 1):
        sheet.append([n, name, owner, amount, "2026-11-13"])
    buf = io.BytesIO()
    book.save(buf)
    path = ROOT / "module/download/downfile.jsp"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())

    doc = docx.Document()
    doc.add_heading("永康市2026年政务公开工作要点", level=1)
    for text in ("一、围绕优化营商环境，加大政策公开解读力度。", "二、围绕保障改善民生，做好社会救助、教育、医疗等领域信息公开。",
                 "三、加强政务公开平台建设，推进政府网站集约化。"):  # fmt: skip
        doc.add_paragraph(text)
    buf = io.BytesIO()
    doc.save(buf)
    (ROOT / TRS_DIR / "202611" / "P05704.docx").write_bytes(buf.getvalue())


def main() -> None:
    import shutil

    if ROOT.exists():
        shutil.rmtree(ROOT)
    lists: dict[int, list[tuple[str, str, str]]] = {c: [] for c in COLUMNS}
    for item in sorted(ITEMS, key=lambda i: i[2], reverse=True):
        col, aid, date = item[0], item[1], item[2]
        y, m, d = (int(x) for x in date.split("-"))
        href = f"/art/{y}/{m}/{d}/art_{col}_{aid}.html"
        charset = COLUMNS[col][1]
        path = ROOT / href.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(article(col, item, charset).encode(charset))
        lists[col].append((href, item[3], date))
    report_href = "/art/2013/3/29/art_1002_13135.html"
    (ROOT / report_href.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (ROOT / report_href.lstrip("/")).write_text(report_article(), encoding="utf-8")
    lists[1002].append((report_href, "永康市2012年度政府信息公开年度报告", "2013-03-29"))
    for col, entries in lists.items():
        path = ROOT / f"col/col{col}/index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(column_page(col, entries, COLUMNS[col][1]).encode(COLUMNS[col][1]))
    write_hanweb_and_trs()
    write_attachments()
    links = "".join(f'<li><a href="/col/col{c}/index.html">{n}</a></li>' for c, (n, _) in COLUMNS.items())
    links += (
        f'<li><a href="/col/col{HANWEB_COL[0]}/index.html">{HANWEB_COL[1]}</a></li><li><a href="/{TRS_DIR}/index.html">{TRS_NAME}</a></li>'
    )
    (ROOT / "index.html").write_text(page("首页", "utf-8", "首页", f"<ul>{links}</ul>"), encoding="utf-8")


if __name__ == "__main__":
    main()
