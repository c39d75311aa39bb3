"""Test and garbage records, placeholders and non-people: what must not become a customer or a contact.

Every function takes the text as it was typed (traditional characters, full-width forms, spaces and case
are folded here) and returns why the value is what it is, or None; the reason names the value, so that a
steward can check. They are pure and cheap, meant to be applied once per distinct value.

``garbage_name(value, key)``: a test marker, keyboard mash or a name that is no name, in any entity's name.

    测试客户, 测试数据勿动, ceshi01, test_company, demo123, 演示账号, 样本, 请勿删除, lorem ipsum  -> test marker
    某某科技有限公司, XX有限公司, xxx公司, ABC公司                                      -> a name left as a stand-in
    asdf, 啊啊, 哈哈哈, 111, 。。。                                                    -> not a name
    测试仪器有限公司, 模拟电子, Testin, Sample Tech Ltd, 金金, 林林, 360               -> None (real)

``placeholder_person(name, emails, phones)``: 张三, 某某, 匿名, 先生 ... with no contact data or only
placeholder contact data (test@test.com, 13800138000); 张三 with a real-looking mobile is a person.

``not_a_contact(name, phones)``: a phone book's family and service entries (妈妈, 老婆, 顺丰快递-小王,
招商银行客服) and contacts whose only numbers are service numbers (95555, 10086, 400 hotlines); 王哥, 李姐
and 朵朵妈妈 (how a salesperson saves a customer) are contacts.

``placeholder_company(value)``: what people type for "no company" (无, 个人, 自由职业, 学生, N/A, /): not an
account; the person stays, without one.

``placeholder_email(value)``, ``placeholder_phone(value)``, ``service_number(value)``: one email or number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import polars as pl

from crm_migrate.cleaners.company_words import TRADES
from crm_migrate.cleaners.person import COMMON_SURNAMES, COMPOUND_SURNAMES
from crm_migrate.cleaners.phone import is_placeholder
from crm_migrate.cleaners.text import simplified

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, emoji and spaces (CJK characters are word characters)


def _fold(value: str) -> str:
    """Full-width to ASCII (NFKC), traditional to simplified, lower case, spaces collapsed."""
    text = unicodedata.normalize("NFKC", value)
    if not text.isascii():
        text = simplified(text)
    return _SPACES.sub(" ", text.lower()).strip()


def _bare(folded: str) -> str:
    """Letters, digits and CJK characters only: 测试-数据 (勿动) -> 测试数据勿动."""
    return _NOT_WORD.sub("", folded)


def _alternation(words: Iterable[str]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) + ")"


# --- test markers -----------------------------------------------------------------------------------------

# Words that say "this is a test" whatever follows: 测试 (and its pinyin ceshi), test, demo. A name that starts
# with one is a test record (测试星辰科技, test_company, demo123), unless a trade word follows at once: then the
# marker is the company's business (测试仪器有限公司 sells test instruments, 测试科技 does testing), and in
# Latin script unless it is only the start of a longer word (Testin, Testo and Testbird are real brands).
_STRONG_ZH = ("测试", "ceshi")
_STRONG_LATIN = ("testing", "tests", "tester", "test", "demo")
# Words with an ordinary meaning besides "test": a test record only when they are the whole name, alone or with
# filler words and numbers (模拟客户, 虚拟客户, 样本01, sample data); 模拟电子 (analog electronics), 虚拟现实
# (VR), 假日酒店 (Holiday Inn), 演示科技 and Sample Tech Ltd are names.
_WEAK = (
    "样例",
    "示例",
    "范例",
    "样本",
    "样板",
    "例子",
    "演示",
    "模拟",
    "虚拟",
    "假",
    "临时",
    "试用",
    "体验",
    "内测",
    "测",
    "无效",
    "作废",
    "已作废",
    "废弃",
    "已废弃",
    "已删除",
    "删除",
    "垃圾",
    "乱填",
    "乱写",
    "乱输",
    "随便",
    "随便填",
    "随便写",
    "随意",
    "瞎填",
    "瞎写",
    "不要用",
    "勿用",
    "勿动",
    "勿删",
    "请勿删除",
    "请勿删",
    "别动",
    "别删",
    "不要动",
    "不要删",
    "重复",
    "sample",
    "samples",
    "example",
    "examples",
    "dummy",
    "fake",
    "foo",
    "bar",
    "baz",
    "foobar",
    "qux",
    "placeholder",
    "temp",
    "tmp",
    "hello",
    "helloworld",
    "abc",
    "abcd",
    "abcde",
    "abcdef",
    "abcdefg",
    "xyz",
    "asdf",
    "qwer",
    "qwerty",
    "invalid",
    "void",
    "deleted",
    "donotuse",
    "dontuse",
    "trial",
    "新建",
    "新增",
    "未命名",
    "无标题",
    "untitled",
    "new",
)
# (新建 and 未命名 are the names a CRM gives a record nobody named: 新建客户, 未命名1, New Customer.)
# What people write after a marker: 测试客户, 测试数据勿动, 测试一下, test_company, testuser, demo账号.
_FILLERS = (
    "客户",
    "公司",
    "有限公司",
    "有限责任公司",
    "用户",
    "数据",
    "资料",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "联系人",
    "人员",
    "记录",
    "信息",
    "单位",
    "企业",
    "商家",
    "名称",
    "姓名",
    "一下",
    "专用",
    "用",
    "使用",
    "勿动",
    "勿删",
    "勿删除",
    "请勿删除",
    "请勿删",
    "不要删",
    "不要删除",
    "别删",
    "别动",
    "不要动",
    "勿改",
    "请勿修改",
    "勿用",
    "不要用",
    "号",
    "人",
    "的",
    "项目",
    "订单",
    "线索",
    "商机",
    "档案",
    "案例",
    "模板",
    "内容",
    "账套",
    "组",
    "环境",
    "版",
    "而已",
    "啊",
    "呀",
    "吧",
    "customer",
    "customers",
    "client",
    "clients",
    "company",
    "companies",
    "co",
    "corp",
    "corporation",
    "ltd",
    "limited",
    "inc",
    "llc",
    "user",
    "users",
    "account",
    "accounts",
    "acct",
    "data",
    "record",
    "records",
    "name",
    "contact",
    "contacts",
    "lead",
    "leads",
    "only",
    "entry",
    "org",
    "please",
    "ignore",
    "do",
    "not",
    "dont",
    "delete",
    "use",
    "gongsi",
    "kehu",
    "yonghu",
    "shuju",
    "zhanghao",
    "zhanghu",
    "lianxiren",
    "yixia",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "world",
)
# One digit or numeral at a time, so that a run of them is read one way only (\d+ repeated backtracks without end).
_NUMBERS = r"[\d一二三四五六七八九十零〇]"
# Fillers, numbers and other markers, in any order (测试数据勿动, test_user_01, 演示账号2).
_TAIL = re.compile("(?:" + _alternation(_FILLERS + _STRONG_ZH + _STRONG_LATIN + _WEAK) + "|" + _NUMBERS + ")*")
# Trade and business words: after a marker at once, they make it a company's business (测试仪器, 测试服务).
_BUSINESS_ZH = tuple(TRADES) + (
    "服务",
    "检测",
    "检验",
    "计量",
    "认证",
    "测量",
    "测控",
    "系统",
    "器材",
    "仪表",
    "工具",
    "网络",
    "信息",
    "数码",
    "光学",
    "工业",
    "制造",
    "中心",
    "实验室",
    "研究所",
    "研究院",
    "工作室",
    "商行",
    "经营部",
    "厂",
    "芯片",
    "器件",
    "集成电路",
    "仿真",
)
_BUSINESS_LATIN = (
    "technology",
    "technologies",
    "tech",
    "instruments",
    "instrument",
    "equipment",
    "electronics",
    "electronic",
    "systems",
    "system",
    "solutions",
    "solution",
    "services",
    "service",
    "software",
    "engineering",
    "trading",
    "industrial",
    "industries",
    "labs",
    "lab",
    "laboratory",
    "laboratories",
    "consulting",
    "medical",
    "biotech",
    "bio",
    "foods",
    "logistics",
    "manufacturing",
    "materials",
    "products",
    "design",
    "media",
    "motors",
    "machinery",
    "automation",
    "semiconductor",
    "measurement",
    "measuring",
    "metrology",
    "inspection",
    "certification",
    "analytics",
    "pharma",
    "kitchen",
    "research",
)
_BUSINESS = re.compile(_alternation(_BUSINESS_ZH + _BUSINESS_LATIN))
_STRONG_START = re.compile("^(" + _alternation(_STRONG_ZH + _STRONG_LATIN) + ")")
_WEAK_WHOLE = re.compile("^(" + _alternation(_WEAK) + ")" + _TAIL.pattern + "$")
# cs is 测试's initials when digits, a Chinese filler or a marker follow (cs01, cs客户, cs_test); CS Ltd may be a name.
_CS_NEXT = [f for f in _FILLERS if not f.isascii()] + list(_STRONG_ZH + _STRONG_LATIN)
_CS = re.compile(r"^cs(?:\d+|" + _alternation(_CS_NEXT) + ")" + _TAIL.pattern + "$")
_LOREM = re.compile(r"^lorem\b")
# 测试 at the end: 星辰科技测试, 张伟测试01, 内部测试. A registered name may end in 测试 as its trade (北京软件测试有限公司);
# not when what comes before is a test's own qualifier (内部测试, 压力测试) or a complete name (星辰科技有限公司（测试）).
_SUFFIX_ZH = re.compile("(测试|ceshi)(" + _TAIL.pattern + ")$")
_SUFFIX_WINDOW = (
    40  # a marker's tail is short: searched in the last characters only, not from every 测试 of a long value
)
_SUFFIX_LATIN = re.compile(r"(?<![a-z])(test|testing|demo)(?![a-z])[^a-z]*$")
_QUALIFIERS = re.compile(
    r"(?:内部|系统|功能|压力|接口|性能|集成|回归|上线|流程|开发|新|我的|临时|批量|导入|仅供|仅用于|用于"
    r"|做|的|用来|专门|数据|客户|用户|账号|测试|[a-z\d]*)$"
)
_LEGAL_END = re.compile(r"(?:有限责任公司|股份有限公司|有限公司|公司|集团|ltd|co|inc|limited|corp)$")


def _strong(bare: str, folded: str) -> bool:
    """A strong marker at the start that is not the company's business."""
    m = _STRONG_START.match(bare)
    if m is None:
        return False
    marker, rest = m.group(1), bare[m.end() :]
    if _TAIL.fullmatch(rest):
        return True
    if _BUSINESS.match(rest):
        return False
    if marker.isascii():  # Testin, Testo, Testbird: the letters go on, it is a longer word
        after = re.match(rf"\W*{marker}(.?)", folded)
        return after is not None and not ("a" <= after.group(1) <= "z")
    return True


def _weak(bare: str, folded: str) -> bool:
    """A weak marker with only fillers and numbers: the whole name. A Latin one must end as a word: sample data
    and demo_01 are markers, Barco (bar + co) and Tempo are names."""
    m = _WEAK_WHOLE.match(bare)
    if m is None:
        return False
    marker = m.group(1)
    return not marker.isascii() or re.match(rf"\W*{marker}(?![a-z])", folded) is not None


def _suffix(bare: str, folded: str, company_key: bool) -> bool:
    m = _SUFFIX_ZH.search(bare, max(0, len(bare) - _SUFFIX_WINDOW))
    if m is not None and m.start() > 0:
        before, tail = bare[: m.start()], m.group(2)
        if _LEGAL_END.search(before) or _QUALIFIERS.fullmatch(before) or len(before) < 2:
            return True
        # A trade that ends in 测试 is written with a legal form (…软件测试有限公司) or is a company's key.
        return not (tail in ("有限公司", "有限责任公司", "公司") or (company_key and not tail))
    m = _SUFFIX_LATIN.search(folded)
    return m is not None and m.start() > 0 and not company_key


def marked_as_test(value: str, key: str | None = None) -> str | None:
    """Why a name is a test record's (测试客户, test01, 样本, 请勿删除), or None. ``key`` is a company name's
    match key (the name without legal form and region), checked as well.

    >>> marked_as_test("测试数据勿动"), marked_as_test("测试仪器有限公司", "测试仪器")
    ("test marker in '测试数据勿动'", None)
    """
    for text, company_key in ((value, False), (key, True)):
        if not text:
            continue
        folded = _fold(text)
        bare = _bare(folded)
        if not bare:
            continue
        if (
            _strong(bare, folded)
            or _weak(bare, folded)
            or _CS.match(bare)
            or _LOREM.match(folded)
            or _suffix(bare, folded, company_key)
        ):
            return f"test marker in {value!r}"
    return None


# --- stand-ins and mash -----------------------------------------------------------------------------------

# Characters people type where a name should be: XX有限公司, 某某科技有限公司, ××公司, **公司, ○○集团.
_STANDIN = r"[x×*○〇◯某?]++"  # possessive: a long run of them is read one way only
_ORG_END = re.compile(
    r"(?:有限责任公司|股份有限公司|有限公司|个体工商户|个人独资企业|公司|集团|企业|厂|店|银行|医院|学校"
    r"|大学|中心|工作室|商行|合作社|事务所|研究所|单位|company|co|ltd|inc|corp|limited)$"
)
_STANDIN_NAME = re.compile(r"^(?:" + _STANDIN + r"(?:省|市|区|县|镇|乡)?)+" + _alternation(_BUSINESS_ZH) + "*$")
_LETTER_STANDINS = frozenset("abcdefghijklmnopqrstuvwxyz甲乙丙丁")
KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890", "0987654321")
# Interjections and fillers: 啊啊, 哈哈哈, 呵呵, 嗯嗯 are typing, not a name. Other reduplicated pairs of CJK
# characters are names people go by (叠字名): 金金, 林林, 文文, 明明, 丽丽.
_INTERJECTIONS = frozenset("啊阿哈呵嗯哦喔噢嘿嘻呜嘤哼唉哎呀嘛呢吧啦哇咯嗷嘎咦哟呦喂嗨嘘哒咳呸嘀嗒吼额呃哒")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")


def _standin(value: str, key: str | None) -> bool:
    """A company name whose name part is a stand-in: 某某科技有限公司, XX市XX公司 (not 某某 alone: as a person's
    name it is a placeholder that real contact data can outweigh)."""
    folded = re.sub(r"[\s()（）\[\]【】\-_.,]+", "", _fold(value))
    company = key is not None or _ORG_END.search(folded) is not None
    while (m := _ORG_END.search(folded)) and m.start() > 0:
        folded = folded[: m.start()]
    # One letter or 甲乙丙 where the name should be is the textbook's "Company A": A公司, 甲公司 (not B站: no legal form).
    return company and (_STANDIN_NAME.match(folded) is not None or (len(folded) == 1 and folded in _LETTER_STANDINS))


def _digits_junk(digits: str) -> bool:
    """Digits as a company's name: 360, 361, 1688, 4399 are brands; 0, 12, 111, 123456 and long numbers are not."""
    return len(digits) <= 2 or len(digits) >= 6 or len(set(digits)) == 1 or any(digits in r for r in KEYBOARD_ROWS)


def _mash(text: str, company: bool = False) -> bool:
    """Keyboard mash, one character repeated (啊啊啊, xxx; not a 叠字名 such as 金金), digits, or no letter at all."""
    folded = _fold(text)
    t = _bare(folded)
    if not t:
        return bool(folded)  # only punctuation or symbols: 。。。, ???, ---
    if len(t) >= 2 and len(set(t)) == 1:
        return not (len(t) == 2 and _CJK.match(t) and t[0] not in _INTERJECTIONS)
    if t.isdigit():
        return not company or _digits_junk(t)
    if len(t) >= 3 and any(t in row for row in KEYBOARD_ROWS):
        return True
    words = folded.split()  # aaa bbb, asdf qwer: every word is mash
    return len(words) > 1 and all(len(w) >= 2 and _mash(w) for w in words)


def garbage_name(value: str, key: str | None = None) -> str | None:
    """Why a name marks a test record, or None. ``key`` is the cleaner's match key where there is one
    (for a company: the name without legal form and region); a key given means the name is a company's.

    >>> garbage_name("测试客户"), garbage_name("某某科技有限公司", "某某科技"), garbage_name("哈哈哈")
    ("test marker in '测试客户'", "'某某科技有限公司' is a stand-in, not a name", "'哈哈哈' is not a name")
    >>> garbage_name("金金"), garbage_name("360", "360"), garbage_name("测试仪器有限公司", "测试仪器")
    (None, None, None)
    """
    if reason := marked_as_test(value, key):
        return reason
    if _standin(value, key):
        return f"{value!r} is a stand-in, not a name"
    if _mash((key or value).strip(), company=key is not None):
        return f"{value!r} is not a name"
    return None


# --- one email, one number ---------------------------------------------------------------------------------

# "None" as people type it into any field: 无, 暂无, 没有, N/A, -, /.
_NONE = re.compile(
    r"^(?:暂?无|暂无信息|没有|没|空|未知|不详|不知道|未填|未填写|未提供|保密|待补充|待定|none|null|nil|nan"
    r"|undefined|n/?a|no|unknown|tbd|#n/a|0)$"
)
_NONE_PUNCT = re.compile(r"^[\W_]*$")
_FIELD_WORDS = re.compile(r"(?:邮箱|邮件|电子邮件|email|e-mail|mail|电话|手机|手机号|号码|联系方式|单位|公司)$")


def _is_none(folded: str) -> bool:
    """无, 暂无, N/A, - and the like, also with the field's name after them (暂无邮箱, 无电话)."""
    text = folded.strip("()（）[]【】 ")
    return (
        _NONE_PUNCT.match(folded) is not None
        or _NONE.match(text) is not None
        or _NONE.match(_FIELD_WORDS.sub("", text).strip()) is not None
    )


_PLACEHOLDER_DOMAIN_LABELS = frozenset(
    {
        "test",
        "testing",
        "tests",
        "example",
        "examples",
        "sample",
        "demo",
        "ceshi",
        "fake",
        "dummy",
        "none",
        "null",
        "noemail",
        "nomail",
        "nomails",
        "domain",
        "yourdomain",
        "mydomain",
        "company",
        "yourcompany",
        "mycompany",
        "xxx",
        "xx",
        "abc",
        "aaa",
        "asdf",
        "qwe",
        "qwer",
        "invalid",
        "localhost",
    }
)
# (Not mail.com or email.com: real providers. email@email.com is caught by its local part.)
_PLACEHOLDER_LOCALS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "tester",
        "testuser",
        "ceshi",
        "demo",
        "sample",
        "example",
        "fake",
        "dummy",
        "none",
        "null",
        "nil",
        "no",
        "noemail",
        "no-email",
        "no_email",
        "nomail",
        "n/a",
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "abc",
        "abcd",
        "abcde",
        "abc123",
        "xyz",
        "asdf",
        "qwer",
        "qwerty",
        "user",
        "username",
        "email",
        "mail",
        "name",
        "your",
        "yourname",
        "your.name",
        "yourmail",
        "youremail",
        "someone",
        "somebody",
        "nobody",
        "anonymous",
        "unknown",
        "john.doe",
        "johndoe",
        "jane.doe",
        "janedoe",
        "foo",
        "bar",
        "foobar",
        "xxx.xxx",
        "x.x",
        "admin123",
    }
)
_MARKER_LOCAL = re.compile(r"^(?:test|testing|tester|demo|ceshi|sample|fake|dummy)[\d._-]*$")
_QQ_DOMAINS = frozenset({"qq.com", "vip.qq.com", "foxmail.com"})
_FREE_MAIL = frozenset(
    {
        "qq.com",
        "vip.qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "139.com",
        "aliyun.com",
        "gmail.com",
        "hotmail.com",
        "outlook.com",
        "yahoo.com",
    }
)


def _junk_token(token: str) -> bool:
    """A local part or domain label that is mash: aaa, xxx, 111, 123456, qwer."""
    t = re.sub(r"[.\-_]", "", token)
    if not t:
        return True
    if len(t) >= 2 and len(set(t)) == 1:
        return True
    if t.isdigit() and len(t) >= 3 and any(t in r for r in ("1234567890123456789", "9876543210987654321")):
        return True
    return len(t) >= 3 and any(t in row for row in KEYBOARD_ROWS if not row[0].isdigit())


def placeholder_email(value: str) -> str | None:
    """Why an email address is a placeholder (test@test.com, 123@qq.com, a@a.com, 无), or None.

    >>> placeholder_email("Test@Example.com"), placeholder_email("123@qq.com"), placeholder_email("zhang.wei@163.com")
    ("placeholder email 'Test@Example.com'", "placeholder email '123@qq.com'", None)
    """
    folded = _fold(value).replace("。", ".").replace(" ", "")
    if _is_none(folded):
        return f"no email ({value.strip()!r})" if value.strip() else None
    local, at, domain = folded.rpartition("@")
    if not at:
        return f"placeholder email {value!r}" if _junk_token(folded) or folded in _PLACEHOLDER_LOCALS else None
    labels = domain.split(".")
    label = labels[-2] if len(labels) >= 2 else labels[0]
    # One letter is no mailbox at a free mail service (a@qq.com) or at a one-letter domain (a@a.com); it may be at a
    # company's own domain (x@xingchen.cn).
    placeholder_local = (
        local in _PLACEHOLDER_LOCALS
        or _MARKER_LOCAL.match(local) is not None
        or _junk_token(local)
        or (len(local) == 1 and (domain in _FREE_MAIL or len(label) == 1))
    )
    placeholder_domain = label in _PLACEHOLDER_DOMAIN_LABELS or (_junk_token(label) and domain not in _FREE_MAIL)
    if local.isdigit():  # a QQ mailbox is the QQ number: five digits or more, no leading zero
        if domain in _QQ_DOMAINS and (len(local) < 5 or local[0] == "0"):
            placeholder_local = True
        if len(local) >= 7 and placeholder_phone(local):
            placeholder_local = True
    if placeholder_local or placeholder_domain:
        return f"placeholder email {value!r}"
    return None


_COUNTRY = re.compile(r"^\s*(?:\+|00)\s*86[\s-]*")


def _digits(value: str) -> str:
    """The number's digits without China's country code (+86 95555 -> 95555, 8613800138000 -> 13800138000)."""
    text = unicodedata.normalize("NFKC", value)
    digits = re.sub(r"\D", "", _COUNTRY.sub("", text))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


# 13900000000, 13888888888, 13912345678: a mobile prefix and a run; 10000000000: a one and zeros.
_FAMOUS_FAKE_MOBILE = re.compile(r"^1(?:[3-9]\d(?:(\d)\1{7}|12345678|87654321)|(\d)\2{9})$")
_LANDLINE = re.compile(r"^0(?:10|2\d|[3-9]\d{2})(\d{7,8})$")


def placeholder_phone(value: str) -> str | None:
    """Why a phone number is a placeholder (13800138000, 13888888888, 12345678901, 00000000, 010-12345678, 无),
    or None. Stricter than the phone cleaner: famous fake mobiles (a real prefix and eight equal digits) and
    landlines whose local number is a run count too. Service numbers are real numbers (see `service_number`).

    >>> placeholder_phone("138-0013-8000"), placeholder_phone("13912345678"), placeholder_phone("13912345670")
    ("placeholder number '138-0013-8000'", "placeholder number '13912345678'", None)
    """
    folded = _fold(value)
    if _DEAD.match(_bare(folded)) or (not re.search(r"\d", folded) and _is_none(folded)):
        return f"no phone ({value.strip()!r})" if value.strip() else None
    parts = [p for p in _PHONE_SPLIT.split(_PHONE_LABEL.sub("", folded)) if re.search(r"\d", p)]
    if parts and all(_placeholder_number(_EXTENSION.sub("", p)) for p in parts):
        return f"placeholder number {value!r}"
    return None


# A cell's several numbers (13800138000/13900139000), an extension (转123, ext 8, -8001 after a landline), a label.
_PHONE_SPLIT = re.compile(r"\s*(?:[/;,，、；|]|或|\s{2,})\s*")
_EXTENSION = re.compile(r"\s*(?:(?:转|分机|ext\.?|x|#)\s*\d{1,6}|(?<=\d{7})-\d{1,5})\s*$")
_PHONE_LABEL = re.compile(r"^\s*(?:tel|phone|mobile|电话|手机|座机|固话|联系电话)\s*[:：]?\s*")
# What people write for a number that does not work: 空号 (not in service), 停机 (suspended), 错号.
_DEAD = re.compile(r"^(?:空号|停机|已停机|错号|号码错误|无此号码|打不通)$")


def _placeholder_number(text: str) -> bool:
    digits = _digits(text)
    if service_number(digits):
        return False
    return bool(
        len(digits) < 5
        or is_placeholder(digits)
        or _FAMOUS_FAKE_MOBILE.match(digits)
        or ((m := _LANDLINE.match(digits)) and is_placeholder(m.group(1)))
    )


_SERVICE = re.compile(r"^(?:1\d{2}|999|100\d{2}|12\d{3}|9[56]\d{3}|95\d{4,6}|[48]00\d{7}|106\d{5,})$")
_AREA = re.compile(r"^0(?:10|2\d|[3-9]\d{2})(?=1\d{2}$|12\d{3}$|9[56]\d{3}$)")


def service_number(value: str) -> str | None:
    """Why a number is a service's, not a person's: emergency and public numbers (110, 120, 12345, 12306,
    010-12345), carriers' (10086, 10010, 10000), banks' and companies' 95 numbers (95555, 950618) and 96xxx,
    400 and 800 hotlines, and 106 SMS gateways; or None.

    >>> service_number("95555"), service_number("400-820-8820"), service_number("13912345670")
    ('service number 95555', 'service number 400-820-8820', None)
    """
    digits = _digits(value)
    digits = _AREA.sub("", digits)
    if _SERVICE.match(digits):
        return f"service number {value.strip()}"
    return None


# --- people ------------------------------------------------------------------------------------------------

_SURNAME = "(?:" + "|".join(sorted(COMPOUND_SURNAMES, key=len, reverse=True)) + "|[" + "".join(COMMON_SURNAMES) + "])"
# Textbook and form-filler names: 张三 李四 王五 赵六 are the "John Doe" of Chinese forms, 小明 and 小红 of textbooks.
_PLACEHOLDER_NAMES = frozenset(
    {
        "张三",
        "李四",
        "王五",
        "赵六",
        "钱七",
        "孙七",
        "张三李四",
        "某某",
        "某人",
        "某",
        "某甲",
        "某乙",
        "甲",
        "乙",
        "丙",
        "路人",
        "路人甲",
        "路人乙",
        "路人丙",
        "无名",
        "无名氏",
        "匿名",
        "匿名用户",
        "佚名",
        "不详",
        "未知",
        "不知道",
        "没有",
        "无",
        "空",
        "暂无",
        "小明",
        "小红",
        "测试",
        "客户",
        "顾客",
        "用户",
        "联系人",
        "本人",
        "姓名",
        "名字",
        "某客户",
        "xxx",
        "xx",
        "x",
        "zhangsan",
        "lisi",
        "wangwu",
        "zhaoliu",
        "xiaoming",
        "johndoe",
        "janedoe",
        "anonymous",
        "anon",
        "unknown",
        "noname",
        "none",
        "null",
        "nil",
        "na",
        "nobody",
        "someone",
        "somebody",
        "test",
        "user",
        "customer",
    }
)
_TITLE_END = re.compile(r"(?:先生|女士|小姐|老师|同学|经理|总|sir|madam)$")
_TITLE_START = re.compile(r"^(?:mr|mrs|ms|miss|dr)(?=.)")
_MASKED = re.compile("^" + _SURNAME + r"(?:某{1,2}|x{1,3}|\*{1,3}|○{1,3})$")


def _placeholder_name(name: str) -> bool:
    folded = _fold(name)
    bare = re.sub(r"[^\w*○]+", "", folded).replace("_", "")
    if bare in _PLACEHOLDER_NAMES or _is_none(folded):
        return True
    core = _TITLE_START.sub("", _TITLE_END.sub("", bare))
    return not core or core in _PLACEHOLDER_NAMES or _MASKED.match(core) is not None


def placeholder_person(name: str, emails: Iterable[str | None] = (), phones: Iterable[str | None] = ()) -> str | None:
    """Why a person is a placeholder, or None: a placeholder name (张三, 李四, 某某, 张某, 匿名, 无名, 路人甲,
    小明, 先生 or 女士 alone, xxx) with no contact data, or with only placeholder emails and phones. There are real
    people called 张三, and a lead whose name nobody wrote down is still a lead: one real-looking email or phone
    keeps the person.

    >>> placeholder_person("张三", phones=["13800138000"]), placeholder_person("张三", phones=["13912345670"])
    ("placeholder name '张三' with placeholder contact data ('13800138000')", None)
    """
    if not name or not _placeholder_name(name):
        return None
    mails = [e for e in emails if e and e.strip()]
    numbers = [p for p in phones if p and p.strip()]
    if not mails and not numbers:
        return f"placeholder name {name!r} and no contact data"
    if all(placeholder_email(e) for e in mails) and all(placeholder_phone(p) for p in numbers):
        shown = ", ".join(repr(c) for c in mails + numbers)
        return f"placeholder name {name!r} with placeholder contact data ({shown})"
    return None


# Kinship terms, bare or with an order (二姨, 大哥, 小舅), 我的/my in front or home/phone words after (妈妈家, 老婆手机):
# how people save their family. A surname in front (王哥, 李姐, 陈阿姨) or a child's name (朵朵妈妈) is how a
# salesperson saves a customer: a contact.
_KIN = (
    "妈",
    "妈妈",
    "老妈",
    "妈咪",
    "老母",
    "爹地",
    "老豆",
    "干妈",
    "干爹",
    "干爸",
    "后妈",
    "继母",
    "干女儿",
    "干儿子",
    "母亲",
    "娘",
    "老娘",
    "爸",
    "爸爸",
    "老爸",
    "父亲",
    "爹",
    "老爹",
    "爷爷",
    "奶奶",
    "外公",
    "外婆",
    "姥姥",
    "姥爷",
    "老婆",
    "老公",
    "媳妇",
    "媳妇儿",
    "老伴",
    "爱人",
    "丈夫",
    "妻子",
    "太太",
    "儿子",
    "女儿",
    "闺女",
    "宝宝",
    "宝贝",
    "宝贝儿",
    "孩子",
    "哥",
    "哥哥",
    "姐",
    "姐姐",
    "弟",
    "弟弟",
    "妹",
    "妹妹",
    "舅",
    "舅舅",
    "舅妈",
    "姨",
    "姨妈",
    "姨夫",
    "阿姨",
    "姑",
    "姑姑",
    "姑妈",
    "姑父",
    "叔",
    "叔叔",
    "婶",
    "婶婶",
    "婶子",
    "伯",
    "伯伯",
    "伯父",
    "伯母",
    "爷",
    "岳父",
    "岳母",
    "丈母娘",
    "老丈人",
    "公公",
    "婆婆",
    "嫂",
    "嫂子",
    "姐夫",
    "妹夫",
    "弟媳",
    "弟妹",
    "侄子",
    "侄女",
    "外甥",
    "外甥女",
    "孙子",
    "孙女",
    "亲家",
    "家",
    "家里",
    "家人",
    "老家",
    "亲爱的",
    "老头",
    "mom",
    "mum",
    "mommy",
    "mummy",
    "mother",
    "mama",
    "dad",
    "daddy",
    "father",
    "papa",
    "wife",
    "hubby",
    "husband",
    "honey",
    "babe",
    "baby",
    "bae",
    "bro",
    "brother",
    "sis",
    "sister",
    "grandma",
    "grandpa",
    "granny",
    "son",
    "daughter",
    "uncle",
    "aunt",
    "auntie",
    "home",
)
_FAMILY = re.compile(
    "^(?:我的|我|亲爱的|my|dear)?(?:[大二三四五六七八九十小老亲表堂幺]?)"
    + _alternation(_KIN)
    + r"(?:家里座机|家里电话|家庭电话|家里|家|手机|电话|座机|新号|旧号|老号|小号|号码|号|新|旧|单位|公司|办公室|工作|大人"
    r"|phone|mobile|cell|home|work|office|new)?\d?$"
)
_NOT_FAMILY = frozenset({"小姐", "小哥"})  # a title; a courier
# Words that make an entry a service, not a business contact: couriers, delivery, rides, home services.
_SERVICES = (
    "快递",
    "外卖",
    "跑腿",
    "骑手",
    "送餐",
    "代驾",
    "出租车",
    "的士",
    "打车",
    "网约车",
    "专车",
    "开锁",
    "换锁",
    "修锁",
    "锁匠",
    "搬家",
    "送水",
    "桶装水",
    "水站",
    "家政",
    "保洁",
    "钟点工",
    "月嫂",
    "保姆",
    "修空调",
    "空调维修",
    "空调安装",
    "安装空调",
    "修电脑",
    "电脑维修",
    "修手机",
    "手机维修",
    "修冰箱",
    "修洗衣机",
    "修热水器",
    "热水器安装",
    "修车",
    "修鞋",
    "修水管",
    "修马桶",
    "修家电",
    "修电视",
    "修油烟机",
    "配钥匙",
    "干洗",
    "洗衣店",
    "通下水道",
    "下水道",
    "疏通",
    "物业",
    "房东",
    "中介",
    "保安",
    "门卫",
    "驿站",
    "丰巢",
    "快递柜",
    "收废品",
    "废品回收",
    "洗车",
    "小哥",
    "装宽带",
    "宽带安装",
    "宽带报修",
    "煤气",
    "液化气",
    "送气",
    "delivery",
    "courier",
    "takeaway",
    "taxi",
    "locksmith",
    "plumber",
    "landlord",
)
# Courier, delivery and ride brands: a service entry alone or with a courier's name (顺丰-小王, 中通师傅); with a
# business title (中通 张经理) a contact at that company.
_SERVICE_BRANDS = (
    "顺丰",
    "中通",
    "圆通",
    "韵达",
    "申通",
    "汇通",
    "百世",
    "极兔",
    "德邦",
    "京东快递",
    "京东物流",
    "邮政",
    "ems",
    "天天快递",
    "宅急送",
    "菜鸟",
    "美团",
    "饿了么",
    "饿了吗",
    "滴滴",
    "货拉拉",
    "快狗",
    "闪送",
    "达达",
    "曹操出行",
    "sf",
    "dhl",
    "fedex",
    "uber",
)
# Hotline words: a service entry when nothing in the name is a person (招商银行客服, 10086客服, 移动客服), a contact
# when someone is named (李娜 客服 is the customer's service agent).
_HOTLINE = (
    "人工客服",
    "客服电话",
    "客服热线",
    "服务热线",
    "服务电话",
    "投诉电话",
    "售后服务",
    "客服",
    "热线",
    "售后",
    "维修",
    "报修",
    "投诉",
    "营业厅",
    "查询",
    "充值",
    "hotline",
    "customerservice",
    "service",
)
_ORGS = (
    "银行",
    "移动",
    "联通",
    "电信",
    "公司",
    "集团",
    "中心",
    "官方",
    "平台",
    "商城",
    "保险",
    "证券",
    "航空",
    "铁路",
    "燃气",
    "电力",
    "供电",
    "自来水",
    "水务",
    "电网",
    "宽带",
    "医院",
    "政府",
    "京东",
    "淘宝",
    "天猫",
    "苏宁",
    "拼多多",
    "支付宝",
    "微信",
    "携程",
    "去哪儿",
    "飞猪",
    "bank",
)
_SERVICE_RE = re.compile(_alternation(_SERVICES))
# Numbers saved to recognise them when they ring again: spam, fraud, cold calls.
_NUISANCE_RE = re.compile(
    _alternation(("骚扰", "诈骗", "推销", "广告电话", "别接", "勿接", "不接", "黑名单", "拉黑", "spam", "scam"))
)
_BRAND_RE = re.compile(_alternation(_SERVICE_BRANDS))
_HOTLINE_RE = re.compile(_alternation(_HOTLINE))
_ORG_RE = re.compile(_alternation(_ORGS))
_BUSINESS_TITLE = re.compile(
    r"经理|总监|主管|主任|老板|董事|总裁|部长|负责人|店长|站长|厂长|专员|manager|director|" + _SURNAME + "总"
)
_COURIER_CUE = re.compile(r"小" + _SURNAME + r"|师傅|小哥|员|快递|司机|骑手|送货|配送|出行|打车|专送|外卖")
_PERSON = re.compile(
    r"(?:^|[^\u3400-\u9fff])"
    + _SURNAME
    + r"[\u3400-\u9fff]{1,2}(?:$|[^\u3400-\u9fff])|^[小老]"
    + _SURNAME
    + "$|^"
    + _SURNAME
    + r"(?:哥|姐|叔|姨|工|总|老师|先生|女士|小姐|师傅)$"
)


def _personal(part: str) -> bool:
    """Whether a text (a name with a hotline word taken out) names a person: 李娜, 小李, 王工, 王经理."""
    if not part or part.isdigit() or _ORG_RE.search(part):
        return False
    return _BUSINESS_TITLE.search(part) is not None or _PERSON.search(part) is not None


def not_a_contact(name: str | None, phones: Iterable[str | None] = ()) -> str | None:
    """Why a contact is not a person to migrate, or None: a family entry (妈妈, 老婆, 二姨, 妈妈家), a courier or
    service entry (顺丰快递-小王, 美团外卖, 开锁王师傅, 物业, 招商银行客服), or only service numbers (95555, 10086;
    a 400 hotline alone only where no person is named). Pass the name as typed: the person cleaner moves 哥, 姐
    and 师傅 out of a name.

    >>> not_a_contact("老妈"), not_a_contact("王哥"), not_a_contact("招商银行", ["95555"])
    ('family entry (老妈)', None, 'service number 95555')
    """
    folded = _fold(name or "")
    bare = _bare(folded)
    if bare and bare not in _NOT_FAMILY and _FAMILY.match(bare):
        return f"family entry ({(name or '').strip()})"
    if bare and (reason := _service_entry(bare, folded)):
        return f"{reason} ({(name or '').strip()})"
    numbers = [p for p in phones if p and p.strip()]
    services = [service_number(p) for p in numbers]
    if numbers and all(services):
        hotline_only = all(_digits(p)[:3] in ("400", "800") for p in numbers)
        if not (hotline_only and _personal(folded)):
            return services[0]
    return None


def _service_entry(bare: str, folded: str) -> str | None:
    if _BUSINESS_TITLE.search(bare):
        return None  # 中通快递 张经理, 物业 王主任: a contact at a service company
    if _NUISANCE_RE.search(bare):
        return "nuisance entry"
    if _SERVICE_RE.search(bare):
        return "courier or service entry"
    if (m := _BRAND_RE.search(bare)) and (bare == m.group() or _COURIER_CUE.search(bare)):
        return "courier or service entry"
    if _HOTLINE_RE.search(bare) and not _personal(_HOTLINE_RE.sub(" ", folded).strip()):
        return "courier or service entry"
    return None


# --- companies ---------------------------------------------------------------------------------------------

# "No company": the person is a private customer, has none, or nobody knows it. 个人独资企业 and 个体工商户 with a
# name (张三个人独资企业, 城关区李记面馆个体工商户) are registered businesses.
_NO_COMPANY = re.compile(
    r"^(?:(?:暂时?|目前|还)?(?:无|没有|没)(?:工作)?(?:单位|公司|名称|工作|业|业游民)?|空|待业|失业|在校生"
    r"|个人|个体|个体户|个体经营|个体工商户|个人独资企业|个人客户|个人用户|个人买家|个人自用|私人|私人客户"
    r"|散户|散客|自由职业|自由职业者|自由人|自雇|学生|在校学生|大学生|退休|退休人员|务农|农民|家庭主妇"
    r"|全职妈妈|全职太太|宝妈|家庭|在家|自己|本人|未知|不详|不清楚|不知道|待定|待补充|待完善|待确认"
    r"|待填|未填|未填写|未提供|保密|其他|其它|其他单位|客户|公司|单位|企业|有限公司|n/?a|none|null|nil|nan"
    r"|undefined|unknown|tbd|tba|self|selfemployed|freelance|freelancer|individual|personal"
    r"|private|student|retired|unemployed|housewife|other|others|no|notapplicable|0+)$"
)


def placeholder_company(value: str | None) -> str | None:
    """Why a company value is not a company (无, 个人, 个体户, 自由职业, 学生, 退休, 未知, 待定, /, N/A, null, 0,
    其他), or None: no account for it, the person stays without one.

    >>> placeholder_company("個體戶"), placeholder_company("张三个人独资企业")
    ("no company ('個體戶')", None)
    """
    if value is None or not value.strip():
        return None
    folded = _fold(value)
    if _NONE_PUNCT.match(folded):
        return f"no company ({value.strip()!r})"
    words = [w for w in _WORDS.split(folded) if w]
    if _NO_COMPANY.match(_bare(folded)) or (words and all(_NO_COMPANY.match(_bare(w)) for w in words)):
        return f"no company ({value.strip()!r})"
    return None


_WORDS = re.compile(r"[\s/\\|,，、;；()（）\[\]【】]+")  # 个人（无公司）, 个人/无: every word says "none"


# --- a fast pass over plain names ----------------------------------------------------------------------------

# Characters a rule looks for one at a time (titles, stand-ins, numerals, kin, "none"), beside the words below.
_RULE_CHARS = "先生女士小姐老师同学经理总工某甲乙丙丁一二三四五六七八九十零〇哥姐叔姨师傅无空"


@lru_cache(maxsize=1)
def _rule_vocabulary() -> tuple[list[str], set[str]]:
    """What any rule above can match in a Chinese name: its words of two characters or more, and the characters
    it looks for alone (its one-character words, the characters of its character classes, interjections).
    A rule's regular expression gives its literal runs of CJK characters as words (a run whose last character
    is optional, 暂时?, gives both 暂 and 暂时)."""
    tuples = (_KIN, _SERVICES, _SERVICE_BRANDS, _HOTLINE, _ORGS, _STRONG_ZH, _WEAK, _FILLERS, tuple(_PLACEHOLDER_NAMES))
    words = {w for t in tuples for w in t}
    chars = set(_INTERJECTIONS) | set(_RULE_CHARS)
    patterns = (
        _FAMILY,
        _SERVICE_RE,
        _NUISANCE_RE,
        _BRAND_RE,
        _HOTLINE_RE,
        _ORG_RE,
        _BUSINESS_TITLE,
        _COURIER_CUE,
        _TITLE_END,
        _MASKED,
        _NONE,
        _STRONG_START,
        _WEAK_WHOLE,
        _CS,
        _SUFFIX_ZH,
        _PERSON,
    )
    for rx in patterns:
        pattern = rx.pattern
        for cls in re.findall(r"\[[^\]]*\]", pattern):
            chars |= set(re.findall(r"[\u3400-\u9fff]", cls))
        for run, optional in re.findall(r"([\u3400-\u9fff]+)(\?)?", re.sub(r"\[[^\]]*\]", " ", pattern)):
            words.add(run[:-1] if optional else run)
            words.add(run)
    cjk = {w for w in words if w and re.search(r"[\u3400-\u9fff]", w)}
    return sorted(w for w in cjk if len(w) > 1), chars | {w for w in cjk if len(w) == 1}


def plain_text(name: pl.Expr) -> pl.Expr:
    """Names of things (a deal, a visit) that no test rule can object to, as one expression: Chinese characters
    only, at least two different ones, and none of the test markers' words (测试, 样本, 演示, 假 ...): 星辰科技年度
    采购 is a deal without calling the rules, 测试商机 and 啊啊啊 go to them."""
    from crm_migrate.cleaners.text import traditional_chars

    markers = sorted({w for w in (*_STRONG_ZH, *_WEAK) if re.search(r"[\u3400-\u9fff]", w)})
    barred = "".join(sorted(set(traditional_chars()) | set("某甲乙丙丁〇")))  # 測試 folds to 测试; 某某公司
    several = name.str.split("").list.n_unique() >= 2
    return name.str.contains(f"^[\u4e00-\u9fa5--[{barred}]]{{2,}}$") & ~name.str.contains_any(markers) & several


def plain_person(name: pl.Expr) -> pl.Expr:
    """Names no rule here can object to, as one expression (polars): a common surname and one or two ordinary
    simplified characters, with none of the rules' words (王伟, 黄平; not 王经理, 张三, 妈妈, 小王 or 欧阳娜娜,
    which go to the rules) and not one character three times. Names that match are people without calling
    the rules; everything else is judged one by one."""
    from crm_migrate.cleaners.text import traditional_chars

    words, chars = _rule_vocabulary()
    given = "[\u4e00-\u9fa5--[" + "".join(sorted(chars | set(traditional_chars()))) + "]]"
    thrice = (name.str.slice(0, 1) == name.str.slice(1, 1)) & (name.str.slice(1, 1) == name.str.slice(2, 1))
    return name.str.contains(f"^{_SURNAME}{given}{{1,2}}$") & ~name.str.contains_any(words) & ~thrice


def plain_company_patterns() -> tuple[str, str]:
    """Regular expressions (Rust syntax) of a company's name and match key that no rule here can object to:
    the name in simplified Chinese characters and brackets only, without 测试, 某 or a stand-in; the key (at
    least two characters, which the caller also checks are not one repeated) holding a character that is
    none of the words a test record is made of (演示, 样本, 客户, 数据, numerals, interjections). Everything else
    is judged one by one."""
    from crm_migrate.cleaners.text import traditional_chars

    barred = sorted(set("测试某〇○◯×甲乙丙丁") | set(traditional_chars()))
    name = "^[[\u4e00-\u9fa5（）()·]--[" + "".join(barred) + "]]+$"
    words = (*_STRONG_ZH, *_WEAK, *_FILLERS, *_INTERJECTIONS, "一二三四五六七八九十零〇")
    vocabulary = sorted({c for w in words for c in w if "\u3400" <= c <= "\u9fff"})
    key = "[\u4e00-\u9fa5--[" + "".join(vocabulary) + "]]"
    return name, key


def real_company_pattern() -> str:
    """A regular expression (Rust syntax) that a company value holding any character outside what "no company"
    is written with matches: such a value is never a placeholder company (北京星辰科技 holds 星)."""
    from crm_migrate.cleaners.text import traditional_chars

    vocabulary = {c for c in _NO_COMPANY.pattern if "\u3400" <= c <= "\u9fff"}
    return "[\u4e00-\u9fa5--[" + "".join(sorted(vocabulary | set(traditional_chars()))) + "]]"
