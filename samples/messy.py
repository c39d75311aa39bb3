"""How the same company, person or number is written differently from one source to the next.

Each function returns the text as a source holds it and a tag naming the phenomenon (empty when the value
is written plainly), which the truth file keeps so that benchmarks can tell recall per phenomenon. What
each source does, and how often, is decided by the caller (`generate.py`), in proportions a real
migration might show: most values are plain; the old CRM is tidier than a salesperson's sheet, and a
sign-up form is the messiest.

The English forms are this generator's own: how people at Chinese companies write their names in English
(pinyin of the brand, the trade translated, sometimes the brand translated too), not the matcher's tables.
"""

from __future__ import annotations

import random
from functools import lru_cache

# Characters a pinyin input method offers for the same syllable: picking the wrong one is the commonest typo.
HOMOPHONES = {
    "星": "兴新腥",
    "辰": "晨臣尘",
    "云": "芸耘运",
    "帆": "凡繁",
    "华": "桦骅画",
    "创": "闯窗",
    "博": "波伯",
    "远": "源元园",
    "恒": "衡横",
    "通": "同桐",
    "瑞": "睿锐",
    "丰": "峰锋枫",
    "嘉": "佳家",
    "禾": "和合",
    "天": "添田",
    "泽": "择则",
    "鼎": "定顶",
    "盛": "胜圣",
    "汇": "惠慧",
    "智": "志知",
    "锐": "瑞睿",
    "思": "斯司",
    "启": "奇琦",
    "明": "名鸣",
    "联": "连莲",
    "宏": "鸿弘",
    "达": "大答",
    "新": "鑫欣",
    "卓": "桌琢",
    "越": "跃悦",
    "航": "杭行",
    "金": "今锦",
    "桥": "乔侨",
    "德": "得",
    "信": "鑫欣",
    "中": "忠钟",
    "科": "可克",
    "永": "勇咏",
    "泰": "太态",
    "东": "冬栋",
    "方": "芳坊",
    "鸿": "宏洪",
    "运": "韵云",
    "世": "士事",
    "佳": "家嘉加",
    "益": "亿艺",
    "捷": "杰洁",
    "迅": "讯逊",
    "腾": "藤誊",
    "景": "京晶",
    "维": "唯伟",
    "百": "佰柏",
    "众": "仲重",
    "平": "萍苹",
    "安": "鞍桉",
    "吉": "集极",
    "祥": "翔详",
    "福": "富复",
    "康": "慷糠",
    "健": "建键",
    "宁": "凝柠",
    "雅": "亚娅",
    "慧": "惠汇",
    "睿": "瑞锐",
    "灵": "玲凌",
    "诚": "城成",
    "鑫": "新欣",
    "旺": "望",
    "昌": "常畅",
    "兴": "星新",
    "利": "力丽",
    "宝": "保堡",
    "晶": "精京",
    "辉": "徽晖",
    "蓝": "兰澜",
    "峰": "丰锋",
    "林": "琳霖",
    "鹏": "朋彭",
    "翔": "祥详",
    "宇": "雨语",
    "源": "元远",
    "伟": "维玮",
    "聚": "巨炬",
    "精": "晶京",
    "凯": "铠恺",
    "杰": "捷洁",
    "豪": "浩昊",
    "骏": "俊峻",
    "晟": "盛胜",
    "昊": "浩豪",
    "坤": "昆",
    "泓": "宏鸿",
    "澜": "兰蓝",
    "浩": "昊豪",
    "润": "闰",
    "拓": "托",
    "锦": "金",
    "迪": "笛",
    "赛": "塞",
    "普": "谱浦",
}
# Pinyin of the brand characters, as an English name writes them.
BRAND_PINYIN = {
    "星": "xing",
    "辰": "chen",
    "云": "yun",
    "帆": "fan",
    "华": "hua",
    "创": "chuang",
    "博": "bo",
    "远": "yuan",
    "恒": "heng",
    "通": "tong",
    "瑞": "rui",
    "丰": "feng",
    "嘉": "jia",
    "禾": "he",
    "天": "tian",
    "泽": "ze",
    "鼎": "ding",
    "盛": "sheng",
    "汇": "hui",
    "智": "zhi",
    "锐": "rui",
    "思": "si",
    "启": "qi",
    "明": "ming",
    "联": "lian",
    "宏": "hong",
    "达": "da",
    "新": "xin",
    "卓": "zhuo",
    "越": "yue",
    "航": "hang",
    "金": "jin",
    "桥": "qiao",
    "德": "de",
    "信": "xin",
    "中": "zhong",
    "科": "ke",
    "永": "yong",
    "泰": "tai",
    "东": "dong",
    "方": "fang",
    "鸿": "hong",
    "运": "yun",
    "世": "shi",
    "佳": "jia",
    "益": "yi",
    "捷": "jie",
    "迅": "xun",
    "腾": "teng",
    "景": "jing",
    "维": "wei",
    "亿": "yi",
    "百": "bai",
    "众": "zhong",
    "同": "tong",
    "和": "he",
    "平": "ping",
    "安": "an",
    "吉": "ji",
    "祥": "xiang",
    "福": "fu",
    "康": "kang",
    "健": "jian",
    "宁": "ning",
    "雅": "ya",
    "慧": "hui",
    "睿": "rui",
    "灵": "ling",
    "文": "wen",
    "诚": "cheng",
    "正": "zheng",
    "立": "li",
    "鑫": "xin",
    "旺": "wang",
    "昌": "chang",
    "兴": "xing",
    "利": "li",
    "宝": "bao",
    "银": "yin",
    "玉": "yu",
    "晶": "jing",
    "光": "guang",
    "辉": "hui",
    "耀": "yao",
    "蓝": "lan",
    "青": "qing",
    "海": "hai",
    "洋": "yang",
    "江": "jiang",
    "河": "he",
    "湖": "hu",
    "山": "shan",
    "峰": "feng",
    "石": "shi",
    "林": "lin",
    "森": "sen",
    "松": "song",
    "春": "chun",
    "秋": "qiu",
    "龙": "long",
    "凤": "feng",
    "鹏": "peng",
    "飞": "fei",
    "翔": "xiang",
    "宇": "yu",
    "元": "yuan",
    "源": "yuan",
    "长": "chang",
    "高": "gao",
    "伟": "wei",
    "聚": "ju",
    "力": "li",
    "美": "mei",
    "尚": "shang",
    "品": "pin",
    "精": "jing",
    "诺": "nuo",
    "凯": "kai",
    "欧": "ou",
    "亚": "ya",
    "英": "ying",
    "杰": "jie",
    "豪": "hao",
    "骏": "jun",
    "旭": "xu",
    "晟": "sheng",
    "昊": "hao",
    "坤": "kun",
    "乾": "qian",
    "泓": "hong",
    "澜": "lan",
    "浩": "hao",
    "川": "chuan",
    "润": "run",
    "沃": "wo",
    "拓": "tuo",
    "途": "tu",
    "迈": "mai",
    "驰": "chi",
    "锦": "jin",
    "绿": "lv",
    "紫": "zi",
    "恩": "en",
    "迪": "di",
    "赛": "sai",
    "普": "pu",
}
# Brand characters an English name translates instead (星云 -> StarCloud); the others it writes in pinyin.
CALQUES = {
    "星": ["Star"],
    "云": ["Cloud"],
    "帆": ["Sail"],
    "华": ["Sino"],
    "创": ["Innov", "Create"],
    "远": ["Vision", "Far"],
    "恒": ["Ever"],
    "通": ["Link"],
    "丰": ["Rich"],
    "天": ["Sky"],
    "智": ["Smart", "Wise"],
    "锐": ["Sharp"],
    "思": ["Think"],
    "明": ["Bright"],
    "联": ["Union", "Link"],
    "宏": ["Grand"],
    "新": ["New"],
    "金": ["Golden", "Gold"],
    "桥": ["Bridge"],
    "信": ["Trust"],
    "中": ["Sino"],
    "永": ["Ever"],
    "东": ["East"],
    "世": ["World"],
    "鸿": ["Swan"],
    "卓": ["Excel"],
    "航": ["Voyage"],
    "佳": ["Best"],
    "安": ["Safe"],
    "福": ["Fortune"],
    "康": ["Health"],
    "宝": ["Treasure"],
    "光": ["Light"],
    "蓝": ["Blue"],
    "海": ["Sea", "Ocean"],
    "龙": ["Dragon"],
    "凤": ["Phoenix"],
    "飞": ["Fly"],
    "精": ["Elite"],
    "银": ["Silver"],
    "山": ["Mountain"],
    "石": ["Stone"],
    "林": ["Forest"],
    "春": ["Spring"],
}
# The trade as English names write it, full and short.
TRADE_EN = {
    "科技": ["Technology", "Technologies", "Tech", "Sci-Tech", "Science & Technology"],
    "信息技术": ["Information Technology", "Info Tech", "IT"],
    "电子": ["Electronics", "Electronic"],
    "机械设备": ["Machinery Equipment", "Machinery", "Machinery & Equipment"],
    "医疗器械": ["Medical Devices", "Medical Equipment", "Medical Instruments"],
    "物流": ["Logistics"],
    "贸易": ["Trading", "Trade"],
    "餐饮管理": ["Catering Management", "Catering"],
    "教育咨询": ["Education Consulting", "Education Consultancy"],
    "建筑工程": ["Construction Engineering", "Construction"],
    "新材料": ["New Materials", "Advanced Materials"],
    "生物科技": ["Biotechnology", "Biotech", "Bio-Tech"],
    "包装制品": ["Packaging Products", "Packaging"],
    "塑料制品": ["Plastic Products", "Plastics"],
    "五金工具": ["Hardware Tools", "Hardware"],
    "精密模具": ["Precision Mould", "Precision Mold", "Mould"],
    "机电设备": ["Electromechanical Equipment", "M&E Equipment"],
    "环保设备": ["Environmental Protection Equipment", "Environmental Equipment"],
    "科技发展": ["Technology Development", "Tech Development", "Technology"],
    "网络科技": ["Network Technology", "Network Tech"],
    "软件": ["Software"],
    "建筑装饰工程": ["Building Decoration Engineering", "Decoration Engineering"],
    "家居用品": ["Home Products", "Household Products", "Home Furnishing"],
    "电子商务": ["E-Commerce", "E-commerce"],
    "商贸": ["Trading", "Commerce & Trade"],
    "酒业": ["Wine", "Liquor"],
    "供应链管理": ["Supply Chain Management", "Supply Chain"],
    "国际货运代理": ["International Freight Forwarding", "International Forwarding"],
    "药业": ["Pharmaceutical", "Pharma"],
    "实业": ["Industrial", "Industry"],
    "玻璃钢": ["FRP", "Fiberglass"],
    "刀具": ["Cutting Tools", "Tools"],
}
# The trade a short name keeps of a trade of several words (包装制品 -> 包装, 国际货运代理 -> 货代: the
# abbreviation people say); a trade not listed is kept whole.
SHORT_TRADE = {
    "包装制品": "包装",
    "塑料制品": "塑料",
    "五金工具": "五金",
    "精密模具": "模具",
    "机电设备": "机电",
    "环保设备": "环保",
    "科技发展": "科技",
    "网络科技": "网络",
    "建筑装饰工程": "装饰",
    "家居用品": "家居",
    "供应链管理": "供应链",
    "国际货运代理": "货代",
    "信息技术": "信息",
    "医疗器械": "医疗",
    "机械设备": "机械",
    "餐饮管理": "餐饮",
    "教育咨询": "教育",
    "建筑工程": "建筑",
    "生物科技": "生物",
}
LEGAL_EN = ["Co., Ltd.", "Co., Ltd.", "Co.,Ltd", "Co. Ltd", "Limited", "Inc.", "Company Limited", ""]
LEGAL_TYPOS = ["有线公司", "有限公公司", "有现公司", "有限司", "有限公"]
CITY_PINYIN = {
    "北京": "Beijing",
    "上海": "Shanghai",
    "深圳": "Shenzhen",
    "广州": "Guangzhou",
    "杭州": "Hangzhou",
    "成都": "Chengdu",
    "武汉": "Wuhan",
    "南京": "Nanjing",
    "苏州": "Suzhou",
    "西安": "Xi'an",
}
SALUTATIONS = ["经理", "总", "工", "先生", "女士", "主任", "老师"]
NAME_TITLES = ["工程师", "经理", "主管", "总监", "助理"]
DEPARTMENTS = ["采购部", "销售部", "财务部", "技术部", "市场部"]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ("\u3000" if ch == " " else ch) for ch in text)


@lru_cache(maxsize=1)
def _to_traditional():
    import opencc

    return opencc.OpenCC("s2t")


def _traditional(text: str) -> str:
    return _to_traditional().convert(text)


def english_company(r: random.Random, c) -> tuple[str, str]:
    """The company's English name, as its staff write it on a business card or a sign-up form."""
    trade = r.choice(TRADE_EN[c.industry_word])
    region = CITY_PINYIN.get(c.region, "")
    translate = (
        all(ch in CALQUES or ch in BRAND_PINYIN for ch in c.brand)
        and sum(ch in CALQUES for ch in c.brand) >= 2
        and r.random() < 0.35
    )
    if translate:
        brand = "".join(r.choice(CALQUES[ch]) if ch in CALQUES else BRAND_PINYIN[ch].capitalize() for ch in c.brand)
        tag = "english_calque"
    else:
        brand = "".join(BRAND_PINYIN.get(ch, "x") for ch in c.brand).capitalize()
        tag = "english_pinyin"
    legal = r.choice(LEGAL_EN)
    branch = ""
    if c.branch:
        branch = f" {CITY_PINYIN.get(c.branch.removesuffix('分公司'), c.branch.removesuffix('分公司'))} Branch"
    form = r.random()
    if form < 0.35 and region:
        text = f"{region} {brand} {trade} {legal}"
    elif form < 0.55 and region:
        text = f"{brand} {trade} ({region}) {legal}"
    elif form < 0.8:
        text = f"{brand} {trade} {legal}"
    else:
        text = f"{brand} {trade.split()[0]}".upper()
    text = " ".join(text.split()) + branch
    if r.random() < 0.1:
        return _fullwidth(text.upper()), "english_fullwidth"
    return text, tag


def _typo(r: random.Random, c) -> tuple[str, str] | None:
    """The brand typed wrong: a homophone, a character dropped, another character."""
    brand = c.brand
    i = r.randrange(len(brand))
    kind = r.random()
    if kind < 0.55 and brand[i] in HOMOPHONES:
        wrong = brand[:i] + r.choice(HOMOPHONES[brand[i]]) + brand[i + 1 :]
        tag = "homophone"
    elif kind < 0.85 and len(brand) >= 2:
        wrong, tag = brand[:i] + brand[i + 1 :], "dropped_char"
    else:
        wrong, tag = brand[:i] + r.choice("华通达信源泰") + brand[i + 1 :], "changed_char"
    if wrong == brand:
        return None
    return f"{c.region}{wrong}{c.industry_word}{c.legal}{c.branch}", tag


def company_name(r: random.Random, c, source: str) -> tuple[str, str]:
    """How ``source`` writes the company's name. ``source``: crm (re-entered in the old CRM), sheet (a
    salesperson's workbook), event (a sign-up form), card (a phone's address book)."""
    odds = {
        "crm": (0.0, 0.0, 0.08, 0.05, 0.03),
        "sheet": (0.02, 0.12, 0.07, 0.04, 0.02),
        "event": (0.10, 0.22, 0.06, 0.04, 0.03),
        "card": (0.14, 0.20, 0.03, 0.02, 0.02),
    }[source]
    english, short, typo, legal_typo, traditional = odds
    x = r.random()
    if x < english:
        return english_company(r, c)
    x -= english
    if x < short:
        return r.choice(
            [
                f"{c.brand}{c.industry_word}",
                f"{c.brand}{SHORT_TRADE.get(c.industry_word, c.industry_word)}",
                f"{c.region}{c.brand}",
                f"{c.brand}集团",
                c.brand,  # the brand alone, as people say it (星辰)
            ]
        ) if not c.branch else f"{c.brand}{c.industry_word}{c.branch}", "short_name"
    x -= short
    if x < typo and (found := _typo(r, c)):
        return found
    x -= typo
    if x < legal_typo and c.legal.endswith("有限公司"):
        return (
            f"{c.region}{c.brand}{c.industry_word}{c.legal.removesuffix('有限公司')}{r.choice(LEGAL_TYPOS)}{c.branch}",
            "legal_form_typo",
        )
    x -= legal_typo
    if x < traditional:
        return _traditional(c.name), "traditional"
    variants = [
        (c.name, ""),
        (c.name, ""),
        (c.name, ""),
        (f"{c.brand}{c.industry_word}（{c.region}）{c.legal}{c.branch}", "region_variant"),
        (f"{c.region} {c.brand}{c.industry_word}{c.legal}{c.branch}", "spacing"),
        (f"{c.name} ", "spacing"),
        (f"{c.brand}{c.industry_word}({c.region}){c.legal}{c.branch}", "region_variant"),
    ]
    return r.choice(variants)


def person_name(r: random.Random, p, source: str) -> tuple[str, str]:
    """How ``source`` writes the person's name (`_person_name`), or with the company typed beside it (王美燕
    桃图家具, 润通 赵乐渊, 华拓模具刘建军, 【云帆】孙丽), in phone books and sign-ups mostly: decided on a
    generator of its own, so every other row comes out as it did."""
    written = _person_name(r, p, source)
    side = random.Random(f"company-in-name|{p.mobile}|{source}")
    if side.random() < {"crm": 0.0, "sheet": 0.005, "event": 0.02, "card": 0.05}[source]:
        n, brand, trade = p.surname + p.given, p.company.brand, p.company.industry_word
        return side.choice(
            [
                f"{n} {brand}{trade}",
                f"{brand} {n}",
                f"{brand}{trade}{n}",
                f"【{brand}{trade}】{n}",
                f"{n}@{brand}{trade}",
                f"{n}（{brand}{trade}）",
            ]
        ), "company_in_name"
    return written


def _person_name(r: random.Random, p, source: str) -> tuple[str, str]:
    """How ``source`` writes the person's name: plainly, as a salutation (王经理, 小李), with a title (何然工程师,
    陈晶-经理, 张伟（采购经理）), in pinyin (Zhang Wei, WANG Fang) or in traditional characters."""
    odds = {
        "crm": (0.0, 0.01, 0.0, 0.01),
        "sheet": (0.07, 0.05, 0.01, 0.01),
        "event": (0.02, 0.03, 0.06, 0.01),
        "card": (0.06, 0.02, 0.08, 0.01),
    }[source]
    salutation, titled, pinyin, traditional = odds
    n = p.surname + p.given
    x = r.random()
    if x < salutation:
        if r.random() < 0.2:
            return f"{r.choice('小老')}{p.surname}", "salutation"
        title = r.choice(SALUTATIONS)
        if title in ("先生", "女士"):
            title = "先生" if p.gender == "男" else "女士"
        return f"{p.surname}{title}", "salutation"
    x -= salutation
    if x < titled:
        title = r.choice(NAME_TITLES)
        return r.choice(
            [f"{n}{title}", f"{n}-{title}", f"{n}（{r.choice(DEPARTMENTS)[:-1]}{title}）", f"{n} {title}"]
        ), "title_in_name"
    x -= titled
    if x < pinyin:
        from pypinyin import lazy_pinyin

        family = "".join(lazy_pinyin(p.surname)).capitalize()
        given = "".join(lazy_pinyin(p.given)).capitalize()
        return r.choice([f"{family} {given}", f"{given} {family}", f"{family.upper()} {given}"]), "pinyin_name"
    x -= pinyin
    if x < traditional:
        return _traditional(n), "traditional"
    plain = "short_real_name" if p.short else ""  # 金金, 王一: a real person, however short the name
    return r.choice([(n, plain), (n, plain), (n, plain), (f"{p.surname} {p.given}", "spacing"), (f"{n} ", "spacing")])


def mobile(r: random.Random, m: str) -> str:
    return r.choice([m, m, f"{m[:3]} {m[3:7]} {m[7:]}", f"{m[:3]}-{m[3:7]}-{m[7:]}", f"+86 {m}", f"86{m}"])


def landline_in_mobile(r: random.Random, line: str) -> str:
    """A landline (0755-88881234) typed in the mobile column: as it is, without its area code, or with the
    zero a number cell drops."""
    area, number = line.split("-")
    return r.choice([line, f"{area}{number}", number, f"{area[1:]}{number}"])


# Divisions renamed or merged since old records were typed: today's name -> the name an old address still uses.
OLD_DIVISIONS = {"新津区": "新津县", "临安区": "临安市", "东城区": "崇文区"}
# Roads whose name holds a district's name (滨江北路 is not in 滨江区): they must not be read as that district.
DISTRICT_STREETS = ["滨江北路", "湖滨南路", "江汉北路", "浦东南路", "海珠中路"]


def address(r: random.Random, c) -> tuple[str, str]:
    """The company's address as a record holds it: now and then with the district's old name (新津县 for
    新津区), and a road named after a district sometimes written without the real district before it."""
    province, city = c.city[0], (c.city[1] if c.city[0] != c.city[1] else "")
    district, tag = c.district, ""
    if district in OLD_DIVISIONS and r.random() < 0.5:
        district, tag = OLD_DIVISIONS[district], "old_division"
    if c.street_named:
        tag = ";".join(t for t in (tag, "district_in_street") if t)
        if r.random() < 0.5:  # the road alone, the district (old name or new) not written
            district, tag = "", "district_in_street"
    return f"{province}{city}{district}{c.street}", tag


EMAIL_TYPOS = {"qq.com": "qq.con", "163.com": "163.cm", "126.com": "126,com", "gmail.com": "gmial.com"}


def email(r: random.Random, address: str, share: float) -> tuple[str, str]:
    """The address, or in ``share`` of rows its common domain mistyped (qq.con, 163.cm, 126,com, gmial.com)."""
    if r.random() < share:
        local, _, domain = address.partition("@")
        if domain in EMAIL_TYPOS:
            return f"{local}@{EMAIL_TYPOS[domain]}", "email_typo"
    return address, ""


def account_ref(r: random.Random, ref: str, share: float = 0.03) -> tuple[str, str]:
    """A child's account id as people retype it, in ``share`` of rows: lower case (c00123), zero padding lost
    (C123) or added (C000123), full-width (Ｃ００１２３), a space (C 00123). Still the same account."""
    if r.random() >= share:
        return ref, ""
    prefix = ref.rstrip("0123456789")
    digits = ref[len(prefix) :]
    kind = r.randrange(5)
    if kind == 0:
        return ref.lower(), "fk_lowercase"
    if kind == 1 and digits.lstrip("0") != digits:
        return prefix + digits.lstrip("0"), "fk_unpadded"
    if kind == 2:
        return f"{prefix}0{digits}", "fk_padded"
    if kind == 3:
        return _fullwidth(ref), "fk_fullwidth"
    return f"{prefix} {digits}", "fk_space"


_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_UNITS = ["", "拾", "佰", "仟"]
_CAPITAL_GROUPS = ["", "万", "亿"]


def financial_numeral(value: int) -> str:
    """An amount in yuan written as on a contract or invoice: 5900 -> 伍仟玖佰元整, 1200000 -> 壹佰贰拾万元整."""
    s, out, zero = str(value), [], False
    for i, ch in enumerate(s):
        pos, d = len(s) - 1 - i, int(ch)
        if d == 0:
            zero = True
        else:
            if zero and out:
                out.append("零")
            zero = False
            out.append(_CAPITAL_DIGITS[d] + _CAPITAL_UNITS[pos % 4])
        if pos % 4 == 0 and pos and int(s[max(0, i - 3) : i + 1]):
            out.append(_CAPITAL_GROUPS[pos // 4])
    return "".join(out or ["零"]) + "元整"


def amount(r: random.Random, value: int, share: float) -> tuple[str, str]:
    """An amount as people type it: 120000, ¥120,000, 12万; in ``share`` of rows a loose form: 约12万, 12万左右,
    50万以上, 壹拾贰万元整, 120k, 12w."""
    if r.random() < share:
        kind = r.randrange(4)
        if kind == 0:
            v = f"{value // 10_000}万" if value % 10_000 == 0 else str(value)
            return r.choice([f"约{v}", f"{v}左右", f"{v}以上"]), "amount_approx"
        if kind == 1:
            return financial_numeral(value), "amount_financial"
        if kind == 2 and value % 1000 == 0:
            return f"{value // 1000}k", "amount_k"
        if kind == 3:
            return f"{value / 10_000:g}{r.choice('wW')}", "amount_w"
    forms = [str(value), f"¥{value:,}"]
    if value % 10_000 == 0:
        forms.append(f"{value // 10_000}万")
    return r.choice(forms), ""
