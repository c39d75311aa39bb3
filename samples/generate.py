"""Seeded generator of a realistic Chinese CRM migration: the demo project's data, and large versions of it.

A world of true companies and people is drawn first; each source then shows part of that world the way
real exports do: an old CRM (accounts as a GBK CSV, contacts, opportunities, and follow-ups as Excel's
"Unicode text"), a sales-team workbook with one sheet per salesperson (title rows, merged banners, phones in
number cells, ID numbers ruined by Excel), a marketing sign-up list and a phone address book. The same
company or person appears several times, written differently; some contacts point at accounts that do not
exist; test records and blanks are mixed in. Names and numbers are written the many ways real exports
write them (see `messy.py`): English names beside Chinese ones, brands typed with a homophone or a
character dropped, legal forms mistyped, people written as a salutation or with their title, a landline
in the mobile column, a sign-up's city that is the attendee's; opportunities entered twice under new
numbers, and a salesperson's pipeline sheet repeating some of them. A few problems a target's template refuses are planted at the
ends of the old CRM's files, apart from the seeded stream (so the rest of the data does not move): a
company whose name is longer than the demo target keeps, with two contacts; a mobile that Excel saved in
scientific notation; two opportunities in a stage the target does not have and no mapping covers.

The mess of issue 13, each in a few per cent of rows: the workbook's sheets head their columns each their
own way (公司名称 / 客户名称 / 客戶名稱 / 单位, 联系人 / 姓名 / 聯繫人, 手机 / 手机号码 / 手機 / 联系电话); a second
contact at a company sits under the first with the company merged over both rows, left blank or written
同上 / 〃 / 同前; two sheets glued from printed pages repeat their header; blank rows, a row of dashes, a
合计 / 小计 row. The old CRM's contacts and opportunities end with an export footer (共 N 条记录, 导出时间: ...);
its children's account ids are now and then retyped (c00123, C123, C000123, Ｃ００１２３, C 00123). Test
records (测试数据勿动, 演示客户, ceshi, test01, 张三 with 13800138000) in the old CRM, the workbook and the
sign-ups; placeholder companies (无, 暂无, 个人, 自由职业, 散户, /, -, N/A) beside real people on the workbook and
the sign-ups; family, courier and service cards (妈妈, 顺丰快递-小王, 95555 招商银行, 10086, 400-..., 12345) in
the phone book, and real people with short names (金金, 林林, 王一). Amounts written 约12万, 12万左右, 50万以上,
壹拾贰万元整, 120k, 12w; follow-ups dated 5月6日; credit codes 0, 无, 暂无, /; addresses with a district's old
name (新津县, 临安市, 崇文区) or on a road named after a district (滨江北路, 湖滨南路); mistyped mail domains
(qq.con, 163.cm, 126,com, gmial.com); vCards with TEL;TYPE=WORK and ORG:company;department.

Uncertain cases for the review band, a handful at any size (`UNCERTAIN`, `Generator.uncertain_cases`): at
the end of the old CRM's contacts, a person's name again at their account with another mobile and no mail
(tag ``uncertain_name_other_mobile``) and a surname with a salutation and the person's office line
(``uncertain_salutation_office_line``); some are the person, some a colleague (``person:uncertain-<n>``).

``truth/truth.csv`` says for every source row and entity which true company, person or opportunity it is,
and which phenomena the row shows (its tags, ";"-separated), so that tests and benchmarks can score
matching per phenomenon; ``truth/lookalikes.csv`` lists the pairs that look alike but are not one. Same
seed, same bytes. How the truth encodes what is not a customer:

- ``garbage:<n>``: a row of the entity that stands for no true one: test records (tag ``test_record``),
  placeholder people (``placeholder_person``: 张三 with 13800138000), phone-book cards of family, couriers and
  service numbers (``family_entry``, ``courier_entry``, ``service_number``; their accounts row is ``none``),
  contacts of accounts deleted long ago.
- ``none``: the row holds no such entity. A placeholder company (无, 个人, N/A; tag ``placeholder_company`` on
  both rows) means *no account*: the accounts row is ``none`` and the contacts row the real ``person:<n>``,
  to be kept without an account. Rows that are not records are ``none`` for every entity of their source,
  tagged ``repeated_header``, ``total_row``, ``separator_row`` or ``export_footer``.
- ``account_ref``: an extra row, for a child whose account id was retyped (tags ``fk_lowercase``,
  ``fk_unpadded``, ``fk_padded``, ``fk_fullwidth``, ``fk_space``, also on the child's own row), naming the
  ``company:<n>`` the id still means.
- Other tags of this issue: ``merged_cell``, ``blank_below``, ``ditto`` (an accounts row whose company comes
  from the row above), ``amount_approx``, ``amount_financial``, ``amount_k``, ``amount_w``, ``date_no_year``,
  ``placeholder_uscc``, ``old_division``, ``district_in_street``, ``email_typo``, ``tel_work``, ``org_unit``,
  ``short_real_name``.

    python samples/generate.py                                  # rewrite samples/demo/data
    python samples/generate.py --companies 100000 --out bench/data/100k
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import itertools
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import messy

TODAY = dt.date(2026, 6, 30)  # the demo project's options.today, so scope windows do not move
HERE = Path(__file__).resolve().parent

SURNAMES = {
    "王": "wang",
    "李": "li",
    "张": "zhang",
    "刘": "liu",
    "陈": "chen",
    "杨": "yang",
    "黄": "huang",
    "赵": "zhao",
    "吴": "wu",
    "周": "zhou",
    "徐": "xu",
    "孙": "sun",
    "马": "ma",
    "朱": "zhu",
    "胡": "hu",
    "郭": "guo",
    "何": "he",
    "高": "gao",
    "林": "lin",
    "罗": "luo",
    "郑": "zheng",
    "梁": "liang",
    "谢": "xie",
    "宋": "song",
    "唐": "tang",
    "许": "xu",
    "韩": "han",
    "冯": "feng",
    "邓": "deng",
    "曹": "cao",
    "彭": "peng",
    "曾": "zeng",
    "肖": "xiao",
    "田": "tian",
    "董": "dong",
    "袁": "yuan",
    "潘": "pan",
    "蒋": "jiang",
    "蔡": "cai",
    "余": "yu",
    "杜": "du",
    "叶": "ye",
    "程": "cheng",
    "苏": "su",
    "魏": "wei",
    "吕": "lv",
    "丁": "ding",
    "任": "ren",
    "沈": "shen",
    "姚": "yao",
    "卢": "lu",
    "钟": "zhong",
    "谭": "tan",
    "陆": "lu",
    "汪": "wang",
    "范": "fan",
    "金": "jin",
    "石": "shi",
    "廖": "liao",
    "单": "shan",
    "欧阳": "ouyang",
    "司马": "sima",
}
GIVEN = {
    "伟": "wei",
    "芳": "fang",
    "娜": "na",
    "敏": "min",
    "静": "jing",
    "丽": "li",
    "强": "qiang",
    "磊": "lei",
    "军": "jun",
    "洋": "yang",
    "勇": "yong",
    "艳": "yan",
    "杰": "jie",
    "娟": "juan",
    "涛": "tao",
    "明": "ming",
    "超": "chao",
    "秀": "xiu",
    "霞": "xia",
    "平": "ping",
    "刚": "gang",
    "英": "ying",
    "华": "hua",
    "玉": "yu",
    "红": "hong",
    "鹏": "peng",
    "辉": "hui",
    "建": "jian",
    "国": "guo",
    "文": "wen",
    "斌": "bin",
    "宇": "yu",
    "浩": "hao",
    "凯": "kai",
    "晨": "chen",
    "欣": "xin",
    "怡": "yi",
    "婷": "ting",
    "雪": "xue",
    "琳": "lin",
    "俊": "jun",
    "峰": "feng",
    "志": "zhi",
    "海": "hai",
    "波": "bo",
    "宁": "ning",
    "嘉": "jia",
    "思": "si",
}
CITIES = [
    ("北京市", "北京市", ["朝阳区", "海淀区", "东城区", "丰台区"], "010", 11, "1101"),
    ("上海市", "上海市", ["浦东新区", "徐汇区", "静安区"], "021", 31, "3101"),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区"], "0755", 44, "4403"),
    ("广东省", "广州市", ["天河区", "越秀区", "海珠区"], "020", 44, "4401"),
    ("浙江省", "杭州市", ["西湖区", "滨江区", "余杭区", "临安区"], "0571", 33, "3301"),
    ("四川省", "成都市", ["武侯区", "锦江区", "青羊区", "新津区"], "028", 51, "5101"),
    ("湖北省", "武汉市", ["洪山区", "江汉区", "武昌区"], "027", 42, "4201"),
    ("江苏省", "南京市", ["鼓楼区", "玄武区", "建邺区"], "025", 32, "3201"),
    ("江苏省", "苏州市", ["姑苏区", "吴中区", "虎丘区"], "0512", 32, "3205"),
    ("陕西省", "西安市", ["雁塔区", "碑林区", "未央区"], "029", 61, "6101"),
]
BRANDS = list(
    dict.fromkeys(
        "星辰云帆华创博远恒通瑞丰嘉禾天泽鼎盛汇智锐思启明联创宏达新锐卓越远航金桥德信中科永泰东方鸿运盛世"
        "佳益捷迅腾景维亿百众同和平安吉祥福康健宁雅慧睿灵文诚正立鑫旺昌兴利宝银玉晶光辉耀蓝青海洋江河湖山峰"
        "石林森松春秋龙凤鹏飞翔宇元源长高伟聚力美尚品精诺凯欧亚英杰豪骏旭晟昊坤乾泓澜浩川润沃拓途迈驰锦绿紫恩迪赛普"
    )
)
# How many characters a brand (字号) has: two mostly, as registered names do; three often; four now and then.
BRAND_LENGTHS = (2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4)
INDUSTRY_WORDS = [
    ("科技", "信息技术"),
    ("信息技术", "信息技术"),
    ("电子", "制造业"),
    ("机械设备", "制造业"),
    ("医疗器械", "医疗健康"),
    ("物流", "交通物流"),
    ("贸易", "批发零售"),
    ("餐饮管理", "餐饮"),
    ("教育咨询", "教育"),
    ("建筑工程", "建筑"),
    ("新材料", "制造业"),
    ("生物科技", "医疗健康"),
    # Trades of several words (a trade and the word after it), and two that no trade table is sure to hold.
    ("包装制品", "制造业"),
    ("塑料制品", "制造业"),
    ("五金工具", "制造业"),
    ("精密模具", "制造业"),
    ("机电设备", "制造业"),
    ("环保设备", "制造业"),
    ("科技发展", "信息技术"),
    ("网络科技", "信息技术"),
    ("软件", "信息技术"),
    ("建筑装饰工程", "建筑"),
    ("家居用品", "批发零售"),
    ("电子商务", "批发零售"),
    ("商贸", "批发零售"),
    ("酒业", "批发零售"),
    ("供应链管理", "交通物流"),
    ("国际货运代理", "交通物流"),
    ("药业", "医疗健康"),
    ("实业", "制造业"),
    ("玻璃钢", "制造业"),
    ("刀具", "制造业"),
]
LEGAL_FORMS = ["有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司"]
STREETS = ["科技园路", "中山路", "人民路", "建设路", "解放大道", "长江路", "创业路", "文一西路", "高新大道"]
TITLES = ["总经理", "采购经理", "财务总监", "技术总监", "行政主管", "销售经理", "董事长", "IT经理", "项目经理"]
LEVELS = ["A类", "B类", "C类", "重点客户"]
STAGES = ["初步接洽", "需求确认", "方案报价", "商务谈判", "赢单", "输单"]
# Planted problems (see the module text): an over-long company name and an unmapped stage.
# Its former name and the year it changed typed into the name field, as old CRMs hold it: longer than the template keeps.
LONG_NAME = "深圳市前海深港现代服务业合作区星辰国际跨境电子商务供应链管理服务有限公司（原深圳市星辰国际货运代理有限公司，2019年更名）"
PLANTED_ACCOUNT, UNMAPPED_STAGE, EXCEL_MOBILE = "C70001", "暂缓推进", "1.3912E+10"
ACTIVITY_TYPES = ["电话", "拜访", "微信", "邮件", "会议"]
SALES = ["张三", "李四", "王五", "赵六"]
# How each salesperson's sheet heads its columns (the fields in the order of the sheet): one kept the
# template, one renamed the columns, one moved them and typed in traditional characters, one wrote 单位.
SHEET_HEADERS = [
    [
        ("name", "公司名称"),
        ("person", "联系人"),
        ("title", "职务"),
        ("mobile", "手机"),
        ("phone", "电话"),
        ("email", "邮箱"),
        ("address", "地址"),
        ("id_card", "身份证"),
        ("note", "备注"),
    ],
    [
        ("name", "客户名称"),
        ("person", "姓名"),
        ("title", "职务"),
        ("mobile", "手机号码"),
        ("phone", "电话"),
        ("email", "邮箱"),
        ("address", "地址"),
        ("id_card", "身份证"),
        ("note", "备注"),
    ],
    [
        ("person", "聯繫人"),
        ("name", "客戶名稱"),
        ("mobile", "手機"),
        ("title", "職務"),
        ("phone", "電話"),
        ("email", "郵箱"),
        ("address", "地址"),
        ("id_card", "身份證"),
        ("note", "備註"),
    ],
    [
        ("name", "单位"),
        ("person", "联系人"),
        ("title", "职务"),
        ("mobile", "联系电话"),
        ("phone", "座机"),
        ("email", "邮箱"),
        ("address", "地址"),
        ("id_card", "身份证号"),
        ("note", "备注"),
    ],
]
PAGE_ROWS = 25  # a printed page: sheets glued together from pages repeat their header this often
DITTOS = ["同上", "〃", "同前"]
# What people type in a company field when there is none: the person is real, the account is not.
PLACEHOLDER_COMPANIES = ["无", "暂无", "个人", "自由职业", "散户", "/", "-", "N/A"]
# Test records people leave in a system: (company, person, mobile, email).
TEST_RECORDS = [
    ("测试数据勿动", "测试", "13800138000", "test@test.com"),
    ("演示客户", "张三", "13800138000", "test@test.com"),
    ("ceshi", "ceshi", "13800000000", ""),
    ("test01", "test01", "13800138000", "test01@test.com"),
]
# Phone-book cards that are not customers: (kind, name, number); "{m}" is a mobile made up for the card.
PHONE_BOOK_JUNK = [
    ("family_entry", "妈妈", "{m}"),
    ("family_entry", "老爸", "{m}"),
    ("family_entry", "老婆", "{m}"),
    ("courier_entry", "顺丰快递-小王", "{m}"),
    ("courier_entry", "京东快递 李师傅", "{m}"),
    ("service_number", "招商银行", "95555"),
    ("service_number", "中国移动", "10086"),
    ("service_number", "宽带客服", "400-{a}-{b}"),
    ("service_number", "政务服务热线", "12345"),
]
SHORT_NAMES = [("金", "金"), ("林", "林"), ("王", "一")]  # real people whose names look like nicknames
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# The uncertain cases planted at any size, each kind some of them the record they look like and some not:
# (kind, the same entity, another one). A handful, as a real export holds them, not a share of the rows.
UNCERTAIN = [("uncertain_name_other_mobile", 2, 2), ("uncertain_salutation_office_line", 1, 2)]
MOBILE_PREFIXES = [
    str(p)
    for p in [
        *range(130, 140),
        150,
        151,
        152,
        153,
        155,
        156,
        157,
        158,
        159,
        166,
        176,
        177,
        178,
        *range(180, 190),
        198,
        199,
    ]
]


@dataclass
class Company:
    id: int
    region: str
    brand: str
    industry_word: str
    industry: str
    legal: str
    city: tuple
    district: str
    street: str
    uscc: str
    landline: str
    owner: str
    created: dt.date
    last_activity: dt.date
    level: str
    people: list[Person] = field(default_factory=list)
    branch: str = ""  # 上海分公司: a branch is a company of its own, not its parent
    street_named: bool = False  # on a road named after a district (滨江北路)

    @property
    def name(self) -> str:
        return f"{self.region}{self.brand}{self.industry_word}{self.legal}{self.branch}"

    @property
    def registered(self) -> str:
        """What makes a name unique by law: region, brand (字号) and trade, not the legal form."""
        return f"{self.region}{self.brand}{self.industry_word}{self.branch}"

    @property
    def address(self) -> str:
        return f"{self.city[0]}{self.city[1] if self.city[0] != self.city[1] else ''}{self.district}{self.street}"


@dataclass
class Person:
    id: int
    company: Company
    surname: str
    given: str
    mobile: str
    email: str
    title: str
    gender: str
    id_card: str | None
    office: str = ""  # a direct office line of the person's own, where the company gives one
    short: bool = False  # a real name that looks like a nickname (金金, 王一)
    new_mobile: str = ""  # a number taken since the old CRM was filled in: the salesperson's sheet and
    # phone book hold it, the CRM and the sign-ups the old one


class World:
    def __init__(self, companies: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.companies: list[Company] = []
        names, mobiles, emails = set(), set(), set()
        pid = 0
        while len(self.companies) < companies:
            c = self._company(len(self.companies) + 1)
            # One brand and trade per company anywhere: the only companies sharing one are the look-alikes
            # added on purpose below, so the truth knows every hard case.
            if f"{c.brand}{c.industry_word}" in names:
                continue
            names.add(f"{c.brand}{c.industry_word}")
            for _ in range(self.rng.choice([1, 1, 2, 2, 3])):
                pid += 1
                p = self._person(pid, c, mobiles, emails)
                c.people.append(p)
            self.companies.append(c)
        people = [p for c in self.companies for p in c.people]
        for i, p in enumerate(self.rng.sample(people, max(6, len(people) // 100))):
            (p.surname, p.given), p.short = SHORT_NAMES[i % len(SHORT_NAMES)], True
        # Drawn from their own stream, so that the rest of the world is the one the seed always gave.
        changes = random.Random(seed * 7919 + 1)
        for p in people:
            if changes.random() < 0.05:
                while (mobile := f"{changes.choice(MOBILE_PREFIXES)}{changes.randint(0, 99999999):08d}") in mobiles:
                    pass
                mobiles.add(mobile)
                p.new_mobile = mobile
        self.lookalikes: list[tuple[str, str, str, str]] = []
        self._add_lookalikes(names, mobiles, emails, pid)
        self.mobiles = mobiles  # every mobile the world holds: the uncertain cases take numbers nobody has

    def _add_lookalikes(self, names: set, mobiles: set, emails: set, pid: int) -> None:
        """Records that look alike but are not the same: the hard cases for matching."""
        r = self.rng
        originals = list(self.companies)
        for kind, share in (("same brand in another city", 20), ("branch and parent", 30), ("homophone brand", 40)):
            for c in r.sample(originals, max(2, len(originals) // share)):
                other = self._company(len(self.companies) + 1)
                while other.city == c.city:
                    other.city = r.choice(CITIES)
                other.district = r.choice(other.city[2])
                other.brand, other.industry_word, other.industry = c.brand, c.industry_word, c.industry
                other.landline = f"{other.city[3]}-{r.randint(2, 8)}{r.randint(0, 9999999):07d}"
                if kind == "branch and parent":
                    other.region, other.legal = c.region, c.legal
                    other.branch = f"{other.city[1].removesuffix('市')}分公司"
                elif kind == "homophone brand":  # 星辰科技 and 兴辰科技: two companies that sound alike
                    i = r.randrange(len(c.brand))
                    if c.brand[i] not in messy.HOMOPHONES:
                        continue
                    other.brand = c.brand[:i] + r.choice(messy.HOMOPHONES[c.brand[i]]) + c.brand[i + 1 :]
                    other.region = other.city[1].removesuffix("市")
                else:
                    other.region = other.city[1].removesuffix("市")
                if other.registered in names:
                    continue
                names.add(other.registered)
                pid += 1
                other.people.append(self._person(pid, other, mobiles, emails))
                self.companies.append(other)
                self.lookalikes.append(("accounts", f"company:{c.id}", f"company:{other.id}", kind))
        people = [p for c in self.companies for p in c.people]
        for p in r.sample(people, max(2, len(people) // 30)):
            q = r.choice(people)
            if q.company is p.company or q is p:
                continue
            q.surname, q.given = p.surname, p.given  # two different people called 张伟
            self.lookalikes.append(("contacts", f"person:{p.id}", f"person:{q.id}", "namesake"))
        for c in r.sample(self.companies, max(1, len(self.companies) // 60)):
            if len(c.people) >= 2:  # two colleagues with one name, at one company
                p, q = c.people[0], c.people[1]
                q.surname, q.given = p.surname, p.given
                self.lookalikes.append(("contacts", f"person:{p.id}", f"person:{q.id}", "namesake at one company"))

    def _company(self, cid: int) -> Company:
        r = self.rng
        city = r.choice(CITIES)
        word, industry = r.choice(INDUSTRY_WORDS)
        created = TODAY - dt.timedelta(days=r.randint(200, 3600))
        last = created + dt.timedelta(days=r.randint(0, (TODAY - created).days))
        named = r.random() < 0.04
        street = f"{r.choice(messy.DISTRICT_STREETS if named else STREETS)}{r.randint(1, 999)}号"
        return Company(
            cid,
            city[1].removesuffix("市"),
            "".join(r.sample(BRANDS, r.choice(BRAND_LENGTHS))),
            word,
            industry,
            r.choice(LEGAL_FORMS),
            city,
            r.choice(city[2]),
            street,
            uscc(r, city[5]),
            f"{city[3]}-{r.randint(2, 8)}{r.randint(0, 9999999):07d}",
            r.choice(SALES),
            created,
            last,
            r.choice(LEVELS),
            street_named=named,
        )

    def _person(self, pid: int, c: Company, mobiles: set, emails: set) -> Person:
        r = self.rng
        surname = r.choice(list(SURNAMES))
        given = "".join(r.sample(list(GIVEN), r.choice([1, 2, 2])))
        while (mobile := f"{r.choice(MOBILE_PREFIXES)}{r.randint(0, 99999999):08d}") in mobiles:
            pass
        mobiles.add(mobile)
        local = SURNAMES[surname] + "".join(GIVEN[g] for g in given)
        email = f"{local}@{r.choice(['qq.com', '163.com', '126.com', 'company.cn', 'gmail.com'])}"
        while email in emails:
            email = f"{local}{r.randint(1, 999)}@{email.split('@')[1]}"
        emails.add(email)
        card = id_card(r, c.city[5]) if r.random() < 0.4 else None
        office = f"{c.city[3]}-{r.randint(2, 8)}{r.randint(0, 9999999):07d}" if r.random() < 0.4 else ""
        return Person(pid, c, surname, given, mobile, email, r.choice(TITLES), r.choice("男女"), card, office)


def uscc(r: random.Random, area: str) -> str:
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    body = "91" + area + f"{r.randint(0, 99):02d}" + "".join(r.choice(USCC_CHARS[:10]) for _ in range(9))
    total = sum(USCC_CHARS.index(ch) * w for ch, w in zip(body, weights))
    return body + USCC_CHARS[(31 - total % 31) % 31]


def id_card(r: random.Random, area: str) -> str:
    born = dt.date(1960, 1, 1) + dt.timedelta(days=r.randint(0, 365 * 40))
    body = f"{area}{r.randint(1, 9):02d}{born:%Y%m%d}{r.randint(0, 999):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(ch) * w for ch, w in zip(body, weights)) % 11]


class Truth:
    """Which true company (company:<n>) or person (person:<n>) each source row shows; garbage:<n> for
    test records and rows with no real counterpart, none where the row holds no such entity (also a
    placeholder company: no account); see the module text."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, str, str, str]] = []

    def add(self, source: str, sheet: str, row: int, entity: str, truth: str, tag: str = "") -> None:
        self.rows.append((source, sheet, row, entity, truth, tag))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["source", "sheet", "row", "entity", "truth", "tag"])
            w.writerows(self.rows)


def csv_bytes(
    header: list[str], rows: list[list[str]], delimiter: str = ",", blank_after: set[int] = frozenset()
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    for i, row in enumerate(rows):
        w.writerow(row)
        if i in blank_after:
            buf.write("\r\n")
    return buf.getvalue()


class Generator:
    def __init__(self, world: World, out: Path) -> None:
        self.w, self.out, self.r = world, out, world.rng
        self.truth = Truth()
        self.garbage = 0
        self.crm_companies: list[Company] = []
        self.office_shown: set[int] = set()  # people whose own office line the old CRM holds

    def garbage_id(self) -> str:
        self.garbage += 1
        return f"garbage:{self.garbage}"

    def _ref(self, r: random.Random, line: int, c: Company, source: str = "old_crm_contacts") -> tuple[str, str]:
        """A child's account id, now and then retyped (c00123, C123, Ｃ００１２３, C 00123): then the truth says
        which account it still is, on a row of entity ``account_ref``."""
        ref, tag = messy.account_ref(r, self.account_ids[c.id])
        if tag:
            self.truth.add(source, "", line, "account_ref", f"company:{c.id}", tag)
        return ref, tag

    def _footer(self, source: str, entity: str, records: int) -> str:
        """The two lines an export writes under its data: a count and when it was made (not records)."""
        lines = [f"共 {records} 条记录", "导出时间: 2026-06-01 10:00"]
        for i in range(len(lines)):
            self.truth.add(source, "", records + 2 + i, entity, "none", "export_footer")
        return "".join(f"{line}\r\n" for line in lines)

    def write_all(self) -> None:
        data = self.out / "data"
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        self.old_crm_accounts(data / "老CRM_客户导出.csv")
        self.old_crm_contacts(data / "老CRM_联系人导出.csv")
        self.old_crm_opportunities(data / "老CRM_商机导出.csv")
        self.old_crm_activities(data / "老CRM_跟进记录.txt")
        self.sales_workbook(data / "销售团队客户表.xlsx")  # after the opportunities: its pipeline repeats some
        self.event_list(data / "市场活动报名.csv")
        self.address_book(data / "通讯录.vcf")
        self.uncertain_cases()
        self.truth.write(self.out / "truth" / "truth.csv")
        with (self.out / "truth" / "lookalikes.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["entity", "a", "b", "kind"])
            w.writerows(self.w.lookalikes)

    def old_crm_accounts(self, path: Path) -> None:
        """GBK CSV as the old CRM exports it: ids C00001..., some companies entered twice, test records."""
        r = self.r
        n = len(self.w.companies)
        self.crm_companies = [c for c in self.w.companies if r.random() < 0.8]
        rows, who = [], []
        for c in self.crm_companies:
            code, code_tag = (c.uscc, "") if r.random() < 0.7 else ("", "")
            if r.random() < 0.04:  # a required field filled with anything: 0, 无, 暂无, /
                code, code_tag = r.choice(["0", "无", "暂无", "/"]), "placeholder_uscc"
            where, where_tag = messy.address(r, c)
            rows.append(
                [
                    f"C{c.id:05d}",
                    c.name,
                    code,
                    c.landline,
                    where,
                    c.industry,
                    c.level,
                    "有效" if r.random() < 0.9 else "无效",
                    c.owner,
                    f"{c.created:%Y-%m-%d}",
                    f"{c.last_activity:%Y/%m/%d}",
                    "",
                ]
            )
            who.append((f"company:{c.id}", ";".join(t for t in (code_tag, where_tag) if t)))
            if r.random() < 0.05:  # entered again later under a new id, written differently
                name, tag = messy.company_name(r, c, "crm")
                where, where_tag = messy.address(r, c)
                rows.append(
                    [
                        f"C{n + len(rows) + 50000:05d}",
                        name,
                        "",
                        c.landline if r.random() < 0.8 else "",
                        where,
                        c.industry,
                        c.level,
                        "有效",
                        c.owner,
                        f"{c.created:%Y-%m-%d}",
                        f"{c.last_activity:%Y/%m/%d}",
                        "重复录入?",
                    ]
                )
                who.append((f"company:{c.id}", ";".join(t for t in (tag, where_tag) if t)))
        tests = ["测试客户", "test", "asdf有限公司", "测试数据勿动", "演示客户", "ceshi"]
        for i in range(max(len(tests), n // 40)):
            rows.append(
                [
                    f"T{len(rows):05d}",
                    tests[i % len(tests)],
                    "",
                    "13800138000",
                    "",
                    "",
                    "",
                    "有效",
                    "admin",
                    f"{TODAY:%Y-%m-%d}",
                    f"{TODAY:%Y/%m/%d}",
                    "测试数据",
                ]
            )
            who.append((self.garbage_id(), "test_record"))
        rows.append(
            [
                f"C{90000 + len(rows)}",
                "",
                "",
                "0755-88888888",
                "",
                "",
                "",
                "有效",
                "",
                "2024-01-01",
                "2025/01/01",
                "名称丢失",
            ]
        )
        who.append((self.garbage_id(), ""))
        order = list(range(len(rows)))
        r.shuffle(order)
        rows, who = [rows[i] for i in order], [who[i] for i in order]
        blank_after = {len(rows) // 2}
        recent = TODAY - dt.timedelta(days=30)
        rows.append(
            [
                PLANTED_ACCOUNT,
                LONG_NAME,
                "",
                "0755-86001234",
                "广东省深圳市南山区前海大道1号",
                "物流",
                "B类",
                "有效",
                SALES[0],
                "2024-03-01",
                f"{recent:%Y/%m/%d}",
                "",
            ]
        )
        who.append(("company:planted-long-name", ""))
        self.active = next(c for c in self.crm_companies if (TODAY - c.last_activity).days < 365)
        header = [
            "客户编号",
            "客户名称",
            "统一社会信用代码",
            "电话",
            "地址",
            "行业",
            "客户级别",
            "状态",
            "负责人",
            "创建时间",
            "最近跟进时间",
            "备注",
        ]
        path.write_bytes(csv_bytes(header, rows, blank_after=blank_after).encode("gb18030"))
        line = 2
        for i, (t, tag) in enumerate(who):
            self.truth.add("old_crm_accounts", "", line, "accounts", t, tag)
            line += 2 if i in blank_after else 1
        self.account_ids = {c.id: f"C{c.id:05d}" for c in self.crm_companies}

    def old_crm_contacts(self, path: Path) -> None:
        r = self.r
        rows, who = [], []
        for c in self.crm_companies:
            for p in c.people:
                if r.random() < 0.85:
                    name, tag = messy.person_name(r, p, "crm")
                    office = p.office if p.office and r.random() < 0.6 else (c.landline if r.random() < 0.3 else "")
                    if office and office == p.office:
                        self.office_shown.add(p.id)
                    ref, ref_tag = self._ref(r, len(rows) + 2, c)
                    mail, mail_tag = messy.email(r, p.email, 0.02) if r.random() < 0.7 else ("", "")
                    rows.append(
                        [
                            f"L{p.id:06d}",
                            ref,
                            name,
                            messy.mobile(r, p.mobile),
                            office,
                            mail,
                            p.title,
                            p.id_card or "",
                            p.gender,
                        ]
                    )
                    who.append((f"person:{p.id}", ";".join(t for t in (tag, ref_tag, mail_tag) if t)))
        for i in range(max(2, len(rows) // 60)):  # contacts of accounts deleted long ago
            given = list(GIVEN)[i % len(GIVEN)]
            rows.append([f"L9{i:05d}", f"C9{i:04d}", self.r.choice(list(SURNAMES)) + given, "", "", "", "", "", ""])
            who.append((self.garbage_id(), ""))
        for i in range(max(2, len(rows) // 80)):  # a placeholder person or a test contact at a real account
            _, person, phone, mail = TEST_RECORDS[1 + i % 3]
            c = self.crm_companies[r.randrange(len(self.crm_companies))]
            rows.append([f"L7{i:05d}", self.account_ids[c.id], person, phone, "", mail, "", "", ""])
            who.append((self.garbage_id(), "placeholder_person" if person == "张三" else "test_record"))
        rows += [
            ["L800001", PLANTED_ACCOUNT, "钟思远", "13612340001", "", "", "物流经理", "", "男"],
            ["L800002", PLANTED_ACCOUNT, "范雪", "13612340002", "", "", "采购", "", "女"],
            ["L800003", self.account_ids[self.active.id], "田嘉怡", EXCEL_MOBILE, "", "", "助理", "", "女"],
        ]
        who += [("person:planted-1", ""), ("person:planted-2", ""), ("person:planted-excel-mobile", "")]
        header = ["联系人编号", "客户编号", "姓名", "手机", "座机", "邮箱", "职务", "身份证号", "性别"]
        for i, (t, tag) in enumerate(who):
            self.truth.add("old_crm_contacts", "", i + 2, "contacts", t, tag)
        self.crm_contacts = (path, header, rows)  # written by `uncertain_cases`, which adds its own rows first

    def old_crm_opportunities(self, path: Path) -> None:
        """The old CRM's opportunities; a few entered again under a new number (same name, account, amount and
        dates), and some that a salesperson's pipeline sheet repeats."""
        r = self.r
        rows, who = [], []
        self.opportunities: list[tuple[Company, int, str, int, dt.date, str]] = []
        for c in self.crm_companies:
            for _ in range(r.choice([0, 0, 1, 1, 2])):
                oid = len(self.opportunities) + 1
                value = r.randint(1, 500) * 1000
                close = c.last_activity + dt.timedelta(days=r.randint(10, 120))
                name = f"{c.brand}{r.choice(['年度采购', '系统升级', '设备采购', '服务续约'])}"
                stage = r.choice(STAGES)
                opened = max(c.created, close - dt.timedelta(days=r.randint(20, 240)))
                self.opportunities.append((c, oid, name, value, close, stage))
                copies = 2 if r.random() < 0.04 else 1
                written, amount_tag = messy.amount(r, value, 0.05)
                for copy in range(copies):
                    ref, ref_tag = self._ref(r, len(rows) + 2, c, "old_crm_opportunities")
                    rows.append(
                        [
                            f"O{len(rows) + 1:06d}",
                            ref,
                            name,
                            written,
                            stage,
                            f"{close:%Y-%m-%d}",
                            c.owner,
                            f"{opened:%Y-%m-%d}",
                        ]
                    )
                    who.append(
                        (
                            f"opportunity:{oid}",
                            ";".join(t for t in ("dup_opportunity" if copy else "", amount_tag, ref_tag) if t),
                        )
                    )
        c = self.active
        for k, what in enumerate(["仓储扩容", "年度框架协议"]):
            rows.append(
                [
                    f"O9{k + 1:05d}",
                    self.account_ids[c.id],
                    f"{c.brand}{what}",
                    "120000",
                    UNMAPPED_STAGE,
                    f"{TODAY + dt.timedelta(days=60):%Y-%m-%d}",
                    c.owner,
                    f"{c.created:%Y-%m-%d}",
                ]
            )
            who.append((f"opportunity:planted-{k + 1}", ""))
        header = ["商机编号", "客户编号", "商机名称", "金额", "阶段", "预计成交日期", "负责人", "创建时间"]
        path.write_text(
            csv_bytes(header, rows) + self._footer("old_crm_opportunities", "opportunities", len(rows)),
            encoding="utf-8",
        )
        for i, (t, tag) in enumerate(who):
            self.truth.add("old_crm_opportunities", "", i + 2, "opportunities", t, tag)

    def old_crm_activities(self, path: Path) -> None:
        """Excel's "Unicode text": UTF-16 with a BOM, tab-separated; a few follow-ups exported twice."""
        r = self.r
        rows, who = [], []
        for c in self.crm_companies:
            for _ in range(r.choice([0, 1, 2, 3])):
                when = c.created + dt.timedelta(days=r.randint(0, max(1, (c.last_activity - c.created).days)))
                kind = r.choice(ACTIVITY_TYPES)
                at = f"{r.randint(8, 18):02d}:{r.choice(['00', '30'])}"
                written, date_tag = f"{when:%Y-%m-%d} {at}", ""
                if r.random() < 0.04:  # typed without the year: 5月6日
                    written, date_tag = (
                        r.choice([f"{when.month}月{when.day}日", f"{when.month}月{when.day}日 {at}"]),
                        "date_no_year",
                    )
                row = [kind, f"{kind}沟通{r.choice(['需求', '报价', '合同', '回款', '售后'])}事宜", written, c.owner]
                aid = len(who) + 1
                for copy in range(2 if r.random() < 0.02 else 1):
                    ref, ref_tag = self._ref(r, len(rows) + 2, c, "old_crm_activities")
                    rows.append([f"R{len(rows) + 1:07d}", ref, *row])
                    who.append(
                        (
                            f"activity:{aid}",
                            ";".join(t for t in ("dup_activity" if copy else "", date_tag, ref_tag) if t),
                        )
                    )
        header = ["记录编号", "客户编号", "跟进方式", "跟进内容", "跟进时间", "跟进人"]
        path.write_bytes(b"\xff\xfe" + csv_bytes(header, rows, delimiter="\t").encode("utf-16-le"))
        for i, (t, tag) in enumerate(who):
            self.truth.add("old_crm_activities", "", i + 2, "activities", t, tag)

    def _phone_cell(self, r: random.Random, p: Person, tag: list[str]):
        """A salesperson's mobile cell: mostly a number cell; now and then the office line typed there."""
        if r.random() < 0.04:
            tag.append("landline_in_mobile")
            text = messy.landline_in_mobile(r, p.office or p.company.landline)
            return int(text) if text.isdigit() and not text.startswith("0") else text
        if p.new_mobile:
            tag.append("mobile_changed")
        number = p.new_mobile or p.mobile
        return int(number) if r.random() < 0.7 else messy.mobile(r, number)

    def sales_workbook(self, path: Path) -> None:
        """One sheet per salesperson: banner, blank row, header on row 3, each sheet heading its columns its
        own way (SHEET_HEADERS); phones typed as numbers. A second contact at a company sits under the first
        with the company cells merged over both rows, left blank, or saying 同上 / 〃 / 同前. Two sheets were
        glued from printed pages (the header again every PAGE_ROWS rows); blank rows here and there; a row of
        dashes and a 合计 / 小计 row at the bottom. A few rows name no company (无, 个人, N/A: the person is
        real, the account is not) and a few are test records. A pipeline sheet lists opportunities with their
        company by name."""
        import xlsxwriter

        r = self.r
        book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
        book.set_properties({"created": dt.datetime(2026, 1, 1), "author": "销售部"})
        banner = book.add_format({"bold": True, "align": "center"})
        for k, seller in enumerate(SALES):
            ws = book.add_worksheet(seller)
            fields = [f for f, _ in SHEET_HEADERS[k % len(SHEET_HEADERS)]]
            header = [h for _, h in SHEET_HEADERS[k % len(SHEET_HEADERS)]]
            col = {f: i for i, f in enumerate(fields)}
            glued = k % 2 == 1

            def mark(line: int, tag: str, seller: str = seller) -> None:
                self.truth.add("sales_workbook", seller, line + 1, "accounts", "none", tag)
                self.truth.add("sales_workbook", seller, line + 1, "contacts", "none", tag)

            ws.merge_range(0, 0, 0, len(header) - 1, f"2026年 {seller} 客户清单", banner)
            ws.write_row(2, 0, header)
            mine = [c for c in self.w.companies if c.owner == seller]
            picks = r.sample(mine, min(len(mine), max(5, len(self.w.companies) // 10)))
            junk = set(r.sample(range(len(picks)), min(len(picks), max(1, len(picks) // 60))))
            row, page = 3, 0
            for n, c in enumerate(picks):
                if glued and page >= PAGE_ROWS:  # the next printed page, header and all
                    ws.write_row(row, 0, header)
                    mark(row, "repeated_header")
                    row, page = row + 1, 0
                elif r.random() < 0.02:
                    row += 1  # a blank row
                if n in junk:
                    company, person, phone, mail = TEST_RECORDS[r.randrange(len(TEST_RECORDS))]
                    ws.write_string(row, col["name"], company)
                    ws.write_string(row, col["person"], person)
                    ws.write_string(row, col["mobile"], phone)
                    if mail:
                        ws.write_string(row, col["email"], mail)
                    self.truth.add("sales_workbook", seller, row + 1, "accounts", self.garbage_id(), "test_record")
                    self.truth.add("sales_workbook", seller, row + 1, "contacts", self.garbage_id(), "test_record")
                    row, page = row + 1, page + 1
                placeholder = r.random() < 0.03
                people = (
                    r.sample(c.people, 2)
                    if len(c.people) >= 2 and not placeholder and r.random() < 0.3
                    else [r.choice(c.people)]
                )
                how = r.choice(["merged", "merged", "blank", "ditto"]) if len(people) == 2 else ""
                for i, p in enumerate(people):
                    company, company_tag = messy.company_name(r, c, "sheet")
                    if placeholder:
                        company, company_tag = r.choice(PLACEHOLDER_COMPANIES), "placeholder_company"
                    person, person_tag = (
                        messy.person_name(r, p, "sheet") if placeholder or i or r.random() < 0.9 else ("", "")
                    )
                    phone_tags: list[str] = []
                    where, where_tag = messy.address(r, c)
                    mail, mail_tag = messy.email(r, p.email, 0.04)
                    values = {
                        "name": company,
                        "person": person,
                        "title": p.title,
                        "mobile": self._phone_cell(r, p, phone_tags),
                        "phone": int(c.landline.replace("-", "")) if r.random() < 0.3 else c.landline,
                        "address": where,
                        "email": mail.upper() if r.random() < 0.2 else mail,
                        "id_card": (
                            int(p.id_card)
                            if p.id_card and p.id_card[-1] != "X" and r.random() < 0.5
                            else p.id_card or ""
                        ),
                        "note": r.choice(["", "", "老客户", "有意向", "需回访"]),
                    }
                    if placeholder:
                        values["phone"] = values["address"] = where_tag = ""
                    if i == 0 and how == "merged":  # the company's cells merged over its two rows
                        for f in ("name", "phone", "address"):
                            ws.merge_range(row, col[f], row + 1, col[f], values.pop(f))
                    elif i == 1:
                        company_tag, where_tag = (
                            {"merged": "merged_cell", "blank": "blank_below", "ditto": "ditto"}[how],
                            "",
                        )
                        for f in ("name", "phone", "address"):
                            values[f] = r.choice(DITTOS) if how == "ditto" and (f == "name" or r.random() < 0.5) else ""
                    for f, v in values.items():
                        if isinstance(v, int):
                            ws.write_number(row, col[f], v)
                        elif v:
                            ws.write_string(row, col[f], v)
                    self.truth.add(
                        "sales_workbook",
                        seller,
                        row + 1,
                        "accounts",
                        "none" if placeholder else f"company:{c.id}",
                        ";".join(t for t in (company_tag, where_tag) if t),
                    )
                    self.truth.add(
                        "sales_workbook",
                        seller,
                        row + 1,
                        "contacts",
                        f"person:{p.id}" if person else "none",
                        ";".join(
                            t
                            for t in (person_tag, *phone_tags, mail_tag, "placeholder_company" if placeholder else "")
                            if t
                        ),
                    )
                    row, page = row + 1, page + 1
            if k % 2 == 0:
                ws.write_row(row, 0, ["-----"] * len(header))
                mark(row, "separator_row")
                row += 1
            ws.write_row(row, 0, [r.choice(["合计", "小计", "合计："]), f"{len(picks)}家"])
            mark(row, "total_row")
        self.pipeline_sheet(book, banner)
        book.close()

    def pipeline_sheet(self, book, banner) -> None:
        """商机跟进: opportunities as a salesperson tracks them, some of the old CRM's again (the name a little
        different, the amount written another way), some new."""
        r = self.r
        ws = book.add_worksheet("商机跟进")
        header = ["客户名称", "商机名称", "金额", "阶段", "预计成交", "负责人"]
        ws.merge_range(0, 0, 0, len(header) - 1, "2026年 商机跟进表", banner)
        ws.write_row(1, 0, header)
        known = r.sample(self.opportunities, min(len(self.opportunities), max(4, len(self.opportunities) // 6)))
        fresh = r.sample(self.w.companies, min(len(self.w.companies), max(2, len(self.w.companies) // 25)))
        items = [
            (c, f"opportunity:{oid}", name, value, close, stage, True) for c, oid, name, value, close, stage in known
        ]
        for c in fresh:
            oid = f"opportunity:sheet-{c.id}"
            close = TODAY + dt.timedelta(days=r.randint(10, 200))
            items.append(
                (
                    c,
                    oid,
                    f"{c.brand}{r.choice(['新建项目', '扩容项目'])}",
                    r.randint(5, 90) * 10_000,
                    close,
                    r.choice(STAGES),
                    False,
                )
            )
        r.shuffle(items)
        for i, (c, oid, name, value, close, stage, again) in enumerate(items):
            row = i + 2
            company, company_tag = messy.company_name(r, c, "sheet")
            tag = ""
            if again and r.random() < 0.3:
                name, tag = r.choice([f"{name}项目", f"{name} ", f"【{name}】"]), "opp_name_variant"
            written, amount_tag = messy.amount(r, value, 0.15)
            ws.write_row(row, 0, [company, name, written, stage, f"{close:%Y/%m/%d}", c.owner])
            self.truth.add("sales_pipeline", "商机跟进", row + 1, "accounts", f"company:{c.id}", company_tag)
            self.truth.add(
                "sales_pipeline", "商机跟进", row + 1, "opportunities", oid, ";".join(t for t in (tag, amount_tag) if t)
            )

    def event_list(self, path: Path) -> None:
        """A sign-up form's export: the company as the attendee typed it, and the attendee's city (in pinyin
        now and then), which is often not where the company is."""
        r = self.r
        people = [p for c in self.w.companies for p in c.people]
        picks = r.sample(people, min(len(people), max(10, len(people) // 5)))
        rows, who = [], []
        junk = set(r.sample(range(len(picks)), max(2, len(picks) // 50)))
        for n, p in enumerate(picks):
            if n in junk:  # someone trying the form: 张三, 13800138000, test@test.com
                company, person, phone, mail = TEST_RECORDS[r.randrange(len(TEST_RECORDS))]
                rows.append([person, company, phone, mail, "", "北京", f"{TODAY:%Y-%m-%d}", "2026 春季新品发布会"])
                who.append((None, "test_record", "test_record"))
            company, company_tag = messy.company_name(r, p.company, "event") if r.random() < 0.9 else ("", "")
            if r.random() < 0.04:  # 无, 个人, N/A: a real attendee, no company
                company, company_tag = r.choice(PLACEHOLDER_COMPANIES), "placeholder_company"
            person, person_tag = messy.person_name(r, p, "event")
            phone_tag = ""
            if r.random() < 0.02:
                phone, phone_tag = messy.landline_in_mobile(r, p.office or p.company.landline), "landline_in_mobile"
            else:
                phone = messy.mobile(r, p.mobile)
            home = p.company.city if r.random() < 0.6 else r.choice(CITIES)
            city = home[1].removesuffix("市")
            city_tag = "event_city" if home is not p.company.city else ""
            if r.random() < 0.3:
                city = messy.CITY_PINYIN.get(city, city)
            mail, mail_tag = messy.email(r, p.email, 0.05)
            rows.append(
                [
                    person,
                    company,
                    phone,
                    mail.replace("@", "＠") if r.random() < 0.1 else mail,
                    p.title,
                    city,
                    f"{TODAY - dt.timedelta(days=r.randint(1, 90)):%Y-%m-%d}",
                    "2026 春季新品发布会",
                ]
            )
            placeholder = company_tag == "placeholder_company"
            who.append(
                (
                    p,
                    company_tag if placeholder else ";".join(t for t in (company_tag, city_tag) if t),
                    ";".join(t for t in (person_tag, phone_tag, mail_tag, company_tag if placeholder else "") if t),
                )
            )
        header = ["姓名", "公司", "手机", "邮箱", "职位", "城市", "报名时间", "活动名称"]
        path.write_text(csv_bytes(header, rows), encoding="utf-8-sig")
        for i, (p, company_tag, person_tag) in enumerate(who):
            if p is None:
                self.truth.add("event_signups", "", i + 2, "accounts", self.garbage_id(), company_tag)
                self.truth.add("event_signups", "", i + 2, "contacts", self.garbage_id(), person_tag)
                continue
            real = rows[i][1] and company_tag != "placeholder_company"
            self.truth.add(
                "event_signups",
                "",
                i + 2,
                "accounts",
                f"company:{p.company.id}" if real else "none",
                company_tag if rows[i][1] else "",
            )
            self.truth.add("event_signups", "", i + 2, "contacts", f"person:{p.id}", person_tag)

    def address_book(self, path: Path) -> None:
        """A phone's export: vCard 3.0, and a few 2.1 cards with quoted-printable names."""
        import quopri

        r = self.r
        people = [p for c in self.w.companies for p in c.people]
        picks = r.sample(people, min(len(people), max(8, len(people) // 8)))
        chosen = {id(p) for p in picks}  # 金金 and 王一 are in the book by name
        picks += list(itertools.islice((p for p in people if p.short and id(p) not in chosen), 3))
        lines: list[str] = []
        junk = set(r.sample(range(len(picks)), min(len(picks), max(len(PHONE_BOOK_JUNK), len(picks) // 12))))
        junk_done: list[int] = []
        for n, p in enumerate(picks):
            if n in junk:  # family, couriers and service numbers: a phone's book is not all customers
                planted = len(junk_done)  # each kind once, then any
                junk_done.append(n)
                kind, name, number = PHONE_BOOK_JUNK[
                    planted if planted < len(PHONE_BOOK_JUNK) else r.randrange(len(PHONE_BOOK_JUNK))
                ]
                number = number.format(
                    m=f"{r.choice(MOBILE_PREFIXES)}{r.randint(0, 99999999):08d}",
                    a=r.randint(100, 999),
                    b=r.randint(1000, 9999),
                )
                start = len(lines) + 1
                self.truth.add("address_book", "", start, "accounts", "none", kind)
                self.truth.add("address_book", "", start, "contacts", self.garbage_id(), kind)
                lines += [
                    "BEGIN:VCARD",
                    "VERSION:3.0",
                    f"N:;{name};;;",
                    f"FN:{name}",
                    f"TEL;TYPE={'CELL' if number.startswith('1') and len(number) == 11 else 'WORK'}:{number}",
                    "END:VCARD",
                ]
            start = len(lines) + 1
            name = p.surname + p.given
            if r.random() < 0.2 and not p.short:
                self.truth.add("address_book", "", start, "accounts", "none")
                self.truth.add(
                    "address_book", "", start, "contacts", f"person:{p.id}", "mobile_changed" if p.new_mobile else ""
                )
                qp = quopri.encodestring(name.encode()).decode().replace("\n", "")
                lines += [
                    "BEGIN:VCARD",
                    "VERSION:2.1",
                    f"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp};;;;",
                    f"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp}",
                    f"TEL;CELL:{p.new_mobile or p.mobile}",
                    "END:VCARD",
                ]
                continue
            company, company_tag = messy.company_name(r, p.company, "card")
            person, person_tag = messy.person_name(r, p, "card")
            if p.short:  # saved under the name itself: 金金, not a salutation
                person, person_tag = name, "short_real_name"
            unit = ""
            if r.random() < 0.12:  # ORG:星辰科技;采购部
                unit, company_tag = r.choice(messy.DEPARTMENTS), ";".join(t for t in (company_tag, "org_unit") if t)
            work = []
            if r.random() < 0.15:  # the office line as well, typed WORK
                work, person_tag = (
                    [f"TEL;TYPE=WORK:{p.office or p.company.landline}"],
                    ";".join(t for t in (person_tag, "tel_work") if t),
                )
            if p.new_mobile:
                person_tag = ";".join(t for t in (person_tag, "mobile_changed") if t)
            self.truth.add("address_book", "", start, "accounts", f"company:{p.company.id}", company_tag)
            self.truth.add("address_book", "", start, "contacts", f"person:{p.id}", person_tag)
            lines += [
                "BEGIN:VCARD",
                "VERSION:3.0",
                f"N:{p.surname};{p.given};;;",
                f"FN:{person}",
                f"ORG:{company};{unit}",
                f"TITLE:{p.title}",
                f"TEL;TYPE=CELL:{messy.mobile(r, p.new_mobile or p.mobile)}",
                *work,
                f"EMAIL;TYPE=INTERNET:{p.email}",
                "END:VCARD",
            ]
        path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")

    def uncertain_cases(self) -> None:
        """Cases that no rule settles, the review band's work, as an old CRM holds them (`UNCERTAIN`), at the
        end of its contacts: a person's name and title again at their account with a mobile nobody else has
        and no mail or ID (the person entered again with a new phone, or a colleague of the same name in the
        same role), and a surname with a salutation (王经理) and the person's own office line, no mobile (them,
        or a colleague of that surname at that desk). Some are the person they look like, some another one
        (``person:uncertain-<n>``), which the truth says, tagging each row with its kind. Drawn from a stream
        of their own and written after everything else is drawn, so that every other row is the one the seed
        always gave (the export's footer, its count and its truth rows, move down). The people are ones the
        old CRM alone shows, once, at an account in the demo's scope (active in the last three years): each
        true case the review band holds back costs the benchmark one pair.

        Companies are not planted: on the demo's 240 companies a name variant with nothing else (a brand
        alone, a character dropped or a homophone, with or without the city) scores either above ``merge``
        or below ``review``, so it would be a wrong merge or a case nobody is shown; and a new account row
        moves the random pairs the accounts' weights are estimated from (planted as phone-book cards with the
        company on them, these cases moved the labelled pairs of tests/test_pairs.py from 0.996 to 0.986)."""
        u = random.Random(self.w.seed * 7919 + 2)
        path, header, rows = self.crm_contacts
        seen: dict[str, list[str]] = {}
        for source, _, _, entity, truth, _ in self.truth.rows:
            if entity in ("accounts", "contacts"):
                seen.setdefault(truth, []).append(source)
        lookalike = {t for _, a, b, _ in self.w.lookalikes for t in (a, b)}
        crm = {c.id for c in self.crm_companies if (TODAY - c.last_activity).days < 3 * 365 - 30}
        alone = [
            p
            for c in self.w.companies
            if c.id in crm
            for p in c.people
            if seen.get(f"person:{p.id}") == ["old_crm_contacts"]
            and not p.short
            and not p.new_mobile
            and f"person:{p.id}" not in lookalike
        ]
        pools = {
            "uncertain_name_other_mobile": [p for p in alone if p.id not in self.office_shown],
            "uncertain_salutation_office_line": [p for p in alone if p.id in self.office_shown],
        }
        others = itertools.count(1)
        for kind, same, other in UNCERTAIN:
            for k, p in enumerate(u.sample(pools[kind], min(len(pools[kind]), same + other))):
                who = f"person:{p.id}" if k < same else f"person:uncertain-{next(others)}"  # a colleague
                if kind == "uncertain_name_other_mobile":
                    while (mobile := f"{u.choice(MOBILE_PREFIXES)}{u.randint(0, 99999999):08d}") in self.w.mobiles:
                        pass
                    self.w.mobiles.add(mobile)
                    name, office, gender, role = p.surname + p.given, "", "", p.title
                else:
                    gender = p.gender if k < same else u.choice("男女")
                    title = u.choice(
                        [t for t in messy.SALUTATIONS if t not in ("先生", "女士")]
                        + ["先生" if gender == "男" else "女士"]
                    )
                    name, mobile, office, role = f"{p.surname}{title}", "", p.office, ""
                self.truth.add("old_crm_contacts", "", len(rows) + 2, "contacts", who, kind)
                rows.append(
                    [f"L85{len(rows):04d}", self.account_ids[p.company.id], name, mobile, office, "", role, "", gender]
                )
        path.write_bytes(
            (csv_bytes(header, rows) + self._footer("old_crm_contacts", "contacts", len(rows))).encode("gb18030")
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=240, help="true companies in the world (demo: 240)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--out", type=Path, default=HERE / "demo", help="project folder to write data/ and truth/ in")
    args = parser.parse_args(argv)
    generate(args.out, args.companies, args.seed)


def generate(out: Path, companies: int = 240, seed: int = 20261122) -> None:
    """Write ``out/data`` and ``out/truth``; the project files (migration.yaml, mappings/) are copied from the
    demo when ``out`` has none, so a large version is a runnable project too."""
    out.mkdir(parents=True, exist_ok=True)
    Generator(World(companies, seed), out).write_all()
    demo = HERE / "demo"
    if out.resolve() != demo.resolve() and not (out / "migration.yaml").exists():
        shutil.copy(demo / "migration.yaml", out / "migration.yaml")
        shutil.copytree(demo / "mappings", out / "mappings", dirs_exist_ok=True)
        shutil.copytree(demo / "targets", out / "targets", dirs_exist_ok=True)


if __name__ == "__main__":
    main()
