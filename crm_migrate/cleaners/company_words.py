"""The words a company name is made of, in Chinese and in the English the same company writes.

A Chinese registered name is region + brand (字号) + trade (行业) + legal form: 北京 星辰 科技 有限公司. Its
English name is the brand in pinyin (Xingchen) or translated (星云 -> StarCloud), the trade translated
(科技 -> Technology), the region in pinyin, and an English legal form (Co., Ltd.). This module holds the
tables that let the two meet:

- `TRADES`: trade words with their usual English forms (and their pinyin, which people also write);
- `GLOSSARY`: brand characters with the English words a calque uses for them;
- `romanise`: toneless pinyin of Chinese text, character by character (with the readings names use);
- `english_name`: an English or pinyin company name taken apart into brand, trade, region and branch.

    >>> english_name("Beijing Xingchen Technology Co., Ltd.")
    EnglishName(brand='xingchen', trade='technology', region='北京市', region_latin='beijing', branch=None)
    >>> trade_of("星辰信息技术")
    ('信息技术', 'information technology')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Chinese trade word -> (code, family, English forms). The code is the trade's usual English name; the family
# groups trades a company's English name may render either way (科技 / 信息技术 -> "Technology").
_TRADE_TABLE: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("高科技", "high technology", "tech", ("hi tech", "hitech", "high tech", "high technology")),
    (
        "科技",
        "technology",
        "tech",
        (
            "technology",
            "technologies",
            "tech",
            "sci tech",
            "scitech",
            "science and technology",
            "science technology",
            "s and t",
            "sci and tech",
            "science and tech",
            "sci and technology",
        ),
    ),
    ("技术", "technology", "tech", ("technology", "technologies", "tech")),
    (
        "信息技术",
        "information technology",
        "tech",
        ("information technology", "info tech", "infotech", "it", "information tech"),
    ),
    ("信息科技", "information technology", "tech", ("information technology", "info tech", "infotech")),
    ("网络科技", "network technology", "tech", ("network technology", "network tech", "networks", "network")),
    ("软件", "software", "tech", ("software", "soft")),
    (
        "智能科技",
        "intelligent technology",
        "tech",
        ("intelligent technology", "smart technology", "smart tech", "intelligence technology"),
    ),
    ("数据科技", "data technology", "tech", ("data technology", "data tech")),
    (
        "电子科技",
        "electronic technology",
        "tech",
        ("electronic technology", "electronics technology", "electronic tech"),
    ),
    ("电子", "electronics", "electronics", ("electronics", "electronic", "electron")),
    (
        "光电",
        "optoelectronics",
        "electronics",
        ("optoelectronics", "optoelectronic", "opto electronics", "photoelectric"),
    ),
    ("半导体", "semiconductor", "electronics", ("semiconductor", "semiconductors")),
    ("电气", "electric", "electronics", ("electric", "electrical")),
    (
        "电器",
        "electric appliance",
        "electronics",
        ("electric appliance", "electrical appliance", "appliances", "appliance"),
    ),
    ("通信", "communication", "tech", ("communication", "communications", "telecom", "telecommunication")),
    ("自动化", "automation", "machinery", ("automation", "automation technology")),
    (
        "机械设备",
        "machinery equipment",
        "machinery",
        ("machinery equipment", "machinery and equipment", "mechanical equipment", "machinery"),
    ),
    ("机械", "machinery", "machinery", ("machinery", "mechanical", "machine", "machines")),
    ("精密机械", "precision machinery", "machinery", ("precision machinery",)),
    ("设备", "equipment", "machinery", ("equipment",)),
    ("仪器", "instrument", "machinery", ("instrument", "instruments")),
    ("重工", "heavy industry", "machinery", ("heavy industry", "heavy industries")),
    ("五金", "hardware", "materials", ("hardware", "metal products")),  # metalwork: 金属制品 is its kin
    (
        "医疗器械",
        "medical devices",
        "medical",
        ("medical devices", "medical device", "medical equipment", "medical instruments", "medical instrument"),
    ),
    ("医疗科技", "medical technology", "medical", ("medical technology", "medtech", "medical tech")),
    ("医疗", "medical", "medical", ("medical", "healthcare", "health care")),
    ("医药", "pharmaceutical", "medical", ("pharmaceutical", "pharmaceuticals", "pharma", "medicine")),
    ("制药", "pharmaceutical", "medical", ("pharmaceutical", "pharmaceuticals", "pharma")),
    (
        "生物科技",
        "biotechnology",
        "medical",
        ("biotechnology", "biotech", "bio tech", "biological technology", "bio technology"),
    ),
    (
        "生物医药",
        "biopharmaceutical",
        "medical",
        ("biopharmaceutical", "biopharma", "bio pharmaceutical", "biomedical"),
    ),
    ("健康", "health", "medical", ("health", "healthcare")),
    (
        "教育咨询",
        "education consulting",
        "education",
        ("education consulting", "educational consulting", "education consultancy", "education consultant"),
    ),
    (
        "教育科技",
        "education technology",
        "education",
        ("education technology", "edtech", "education tech", "educational technology"),
    ),
    ("教育", "education", "education", ("education", "educational")),
    ("培训", "training", "education", ("training",)),
    ("管理咨询", "management consulting", "consulting", ("management consulting", "management consultancy")),
    ("企业管理", "enterprise management", "consulting", ("enterprise management", "business management", "management")),
    ("咨询", "consulting", "consulting", ("consulting", "consultancy", "consultants", "consultant", "advisory")),
    ("人力资源", "human resources", "consulting", ("human resources", "hr", "human resource")),
    ("贸易", "trading", "trade", ("trading", "trade", "trade and commerce")),
    ("商贸", "trading", "trade", ("trading", "commerce and trade", "commercial trading", "trade")),
    ("国际贸易", "international trading", "trade", ("international trading", "international trade")),
    ("进出口", "import and export", "trade", ("import and export", "import export", "imp and exp", "imp exp")),
    ("电子商务", "e-commerce", "trade", ("e commerce", "ecommerce", "electronic commerce")),
    ("实业", "industrial", "trade", ("industrial", "industry", "industries")),
    ("物流", "logistics", "logistics", ("logistics",)),
    ("国际物流", "international logistics", "logistics", ("international logistics",)),
    ("供应链", "supply chain", "logistics", ("supply chain", "supply chain management", "scm")),
    ("供应链管理", "supply chain", "logistics", ("supply chain management", "supply chain")),
    (
        "货运代理",
        "freight forwarding",
        "logistics",
        ("freight forwarding", "freight forwarder", "freight", "forwarding"),
    ),
    ("运输", "transportation", "logistics", ("transportation", "transport")),
    (
        "建材",
        "building materials",
        "construction",
        ("building materials", "building material", "construction materials"),
    ),
    ("新材料", "new materials", "materials", ("new materials", "new material", "advanced materials")),
    ("材料", "materials", "materials", ("materials", "material")),
    ("化工", "chemical", "materials", ("chemical", "chemicals", "chemical industry")),
    ("塑胶", "plastics", "materials", ("plastics", "plastic")),
    ("塑料", "plastics", "materials", ("plastics", "plastic")),
    (
        "建筑工程",
        "construction engineering",
        "construction",
        ("construction engineering", "construction", "building engineering", "construction works"),
    ),
    ("建设", "construction", "construction", ("construction",)),
    ("工程", "engineering", "construction", ("engineering", "projects")),
    (
        "装饰工程",
        "decoration engineering",
        "construction",
        ("decoration engineering", "decoration", "interior decoration"),
    ),
    ("装饰", "decoration", "construction", ("decoration", "interior design")),
    (
        "房地产开发",
        "real estate development",
        "real estate",
        ("real estate development", "property development", "real estate"),
    ),
    ("房地产", "real estate", "real estate", ("real estate", "property", "properties", "realty")),
    ("物业管理", "property management", "real estate", ("property management",)),
    (
        "餐饮管理",
        "catering management",
        "food",
        ("catering management", "catering", "food and beverage management", "food and beverage"),
    ),
    ("餐饮", "catering", "food", ("catering", "restaurant", "food and beverage")),
    ("食品", "food", "food", ("food", "foods", "foodstuff", "foodstuffs")),
    ("农业", "agriculture", "agriculture", ("agriculture", "agricultural", "agri")),
    ("能源", "energy", "energy", ("energy",)),
    ("新能源", "new energy", "energy", ("new energy", "renewable energy")),
    (
        "环保科技",
        "environmental technology",
        "environment",
        ("environmental technology", "environmental protection technology", "environmental tech", "enviro tech"),
    ),
    ("环保", "environmental protection", "environment", ("environmental protection", "environmental", "environment")),
    ("文化传媒", "culture media", "media", ("culture media", "culture and media", "cultural media", "media")),
    ("传媒", "media", "media", ("media",)),
    ("广告", "advertising", "media", ("advertising", "advertisement", "ads")),
    ("投资管理", "investment management", "finance", ("investment management", "asset management")),
    ("投资", "investment", "finance", ("investment", "investments")),
    ("金融", "finance", "finance", ("finance", "financial")),
    ("纺织", "textile", "textile", ("textile", "textiles")),
    ("服装", "garment", "textile", ("garment", "garments", "apparel", "clothing", "fashion")),
    ("汽车", "automobile", "auto", ("automobile", "automotive", "auto", "motor")),
    ("汽车配件", "auto parts", "auto", ("auto parts", "automobile parts", "automotive parts")),
    ("旅游", "travel", "services", ("travel", "tourism")),
    ("印刷", "printing", "services", ("printing",)),
    ("包装", "packaging", "materials", ("packaging", "package")),
    ("家具", "furniture", "services", ("furniture",)),
    # More trades, as registered names use them (a name's 行业 is chosen from the national industry classification,
    # and each of these is common in it).
    ("网络", "network", "tech", ("network", "networks", "net")),
    ("信息", "information", "tech", ("information", "info")),
    ("互联网", "internet", "tech", ("internet",)),
    ("数码", "digital", "tech", ("digital",)),
    ("计算机", "computer", "tech", ("computer", "computers")),
    ("系统集成", "system integration", "tech", ("system integration", "systems integration")),
    ("智能", "intelligent", "tech", ("intelligent", "smart", "intelligence")),
    ("人工智能", "artificial intelligence", "tech", ("artificial intelligence", "ai")),
    ("大数据", "big data", "tech", ("big data",)),
    ("云计算", "cloud computing", "tech", ("cloud computing", "cloud")),
    ("物联网", "internet of things", "tech", ("internet of things", "iot")),
    ("信息服务", "information services", "tech", ("information services", "information service")),
    ("电商", "e-commerce", "trade", ("e commerce", "ecommerce")),
    ("游戏", "games", "media", ("games", "game", "gaming")),
    ("动漫", "animation", "media", ("animation", "anime", "cartoon")),
    ("电力", "electric power", "energy", ("electric power", "power", "electricity")),
    ("电线电缆", "wire and cable", "electronics", ("wire and cable", "wire cable", "wires and cables")),
    ("电缆", "cable", "electronics", ("cable", "cables")),
    ("线缆", "cable", "electronics", ("cable", "cables")),
    ("照明", "lighting", "electronics", ("lighting", "lights")),
    ("灯饰", "lighting", "electronics", ("lighting", "lamps")),
    ("电机", "motor", "machinery", ("motor", "motors", "electric motor", "electric motors")),
    (
        "机电",
        "electromechanical",
        "machinery",
        ("electromechanical", "mechanical and electrical", "electrical and mechanical", "m and e"),
    ),
    (
        "仪器仪表",
        "instruments and meters",
        "machinery",
        ("instruments and meters", "instrument and meter", "instrumentation"),
    ),
    ("仪表", "meters", "machinery", ("meter", "meters", "instrumentation")),
    ("通讯", "communication", "tech", ("communication", "communications", "telecom")),
    ("安防", "security", "electronics", ("security", "security technology", "surveillance")),
    ("电池", "battery", "energy", ("battery", "batteries")),
    ("家电", "home appliances", "electronics", ("home appliances", "home appliance", "household appliances")),
    ("光伏", "photovoltaic", "energy", ("photovoltaic", "pv", "solar")),
    ("储能", "energy storage", "energy", ("energy storage",)),
    (
        "精密模具",
        "precision mould",
        "machinery",
        ("precision mould", "precision mold", "precision moulds", "precision molds"),
    ),
    ("模具", "mould", "machinery", ("mould", "mold", "moulds", "molds", "die and mould", "tooling")),
    ("机床", "machine tools", "machinery", ("machine tools", "machine tool")),
    ("数控", "cnc", "machinery", ("cnc", "numerical control")),
    ("液压", "hydraulics", "machinery", ("hydraulics", "hydraulic")),
    ("泵业", "pumps", "machinery", ("pumps", "pump")),
    ("阀门", "valves", "machinery", ("valves", "valve")),
    ("轴承", "bearings", "machinery", ("bearings", "bearing")),
    ("工具", "tools", "machinery", ("tools", "tool")),
    ("制造", "manufacturing", "machinery", ("manufacturing", "manufacture", "mfg")),
    ("智能制造", "intelligent manufacturing", "machinery", ("intelligent manufacturing", "smart manufacturing")),
    ("装备", "equipment", "machinery", ("equipment",)),
    ("机器人", "robotics", "machinery", ("robotics", "robot", "robots")),
    ("制冷", "refrigeration", "machinery", ("refrigeration",)),
    ("暖通", "hvac", "machinery", ("hvac", "heating and ventilation")),
    ("起重", "hoisting", "machinery", ("hoisting", "crane", "cranes", "lifting")),
    ("铸造", "casting", "machinery", ("casting", "castings", "foundry")),
    ("锻造", "forging", "machinery", ("forging", "forgings")),
    ("紧固件", "fasteners", "machinery", ("fasteners", "fastener")),
    ("零部件", "parts", "machinery", ("parts", "components")),
    ("配件", "parts", "machinery", ("parts", "accessories", "fittings")),
    ("化学", "chemical", "materials", ("chemical", "chemicals", "chemistry")),
    ("涂料", "coatings", "materials", ("coatings", "coating", "paint", "paints")),
    ("油漆", "paint", "materials", ("paint", "paints")),
    ("橡胶", "rubber", "materials", ("rubber",)),
    ("橡塑", "rubber and plastics", "materials", ("rubber and plastics", "rubber and plastic")),
    ("塑业", "plastics", "materials", ("plastics", "plastic")),
    ("玻璃", "glass", "materials", ("glass",)),
    ("陶瓷", "ceramics", "materials", ("ceramics", "ceramic")),
    ("石材", "stone", "construction", ("stone",)),
    ("水泥", "cement", "construction", ("cement",)),
    ("钢铁", "steel", "materials", ("steel", "iron and steel")),
    ("钢结构", "steel structure", "construction", ("steel structure", "steel structures")),
    ("钢构", "steel structure", "construction", ("steel structure", "steel structures")),
    ("不锈钢", "stainless steel", "materials", ("stainless steel",)),
    ("金属", "metal", "materials", ("metal", "metals")),
    ("有色金属", "nonferrous metals", "materials", ("nonferrous metals", "non ferrous metals")),
    ("铝业", "aluminium", "materials", ("aluminium", "aluminum")),
    ("铜业", "copper", "materials", ("copper",)),
    ("管业", "pipes", "materials", ("pipes", "pipe", "piping")),
    ("纸业", "paper", "materials", ("paper",)),
    ("木业", "wood", "materials", ("wood", "timber")),
    ("纤维", "fiber", "materials", ("fiber", "fibre", "fibers", "fibres")),
    ("矿业", "mining", "energy", ("mining", "minerals")),
    ("冶金", "metallurgy", "materials", ("metallurgy", "metallurgical")),
    ("防水", "waterproofing", "construction", ("waterproofing", "waterproof")),
    ("门窗", "doors and windows", "construction", ("doors and windows",)),
    ("幕墙", "curtain wall", "construction", ("curtain wall", "curtain walls")),
    ("卫浴", "sanitary ware", "construction", ("sanitary ware", "bathroom")),
    ("家居", "home furnishing", "services", ("home furnishing", "home furnishings", "home", "household")),
    ("家纺", "home textiles", "textile", ("home textiles", "home textile")),
    ("纺织品", "textiles", "textile", ("textiles", "textile")),
    ("服饰", "apparel", "textile", ("apparel", "fashion", "garments", "clothing")),
    ("针织", "knitting", "textile", ("knitting", "knitwear")),
    ("鞋业", "footwear", "textile", ("footwear", "shoes")),
    ("皮革", "leather", "textile", ("leather",)),
    ("箱包", "bags", "textile", ("bags", "luggage", "bags and luggage")),
    ("饮料", "beverages", "food", ("beverages", "beverage", "drinks")),
    ("酒业", "liquor", "food", ("liquor", "wine", "wines", "winery", "spirits")),
    ("茶业", "tea", "food", ("tea",)),
    ("茶叶", "tea", "food", ("tea",)),
    ("乳业", "dairy", "food", ("dairy",)),
    ("粮油", "grain and oil", "food", ("grain and oil", "grain and oils", "cereals and oils")),
    ("调味品", "condiments", "food", ("condiments", "seasoning", "seasonings")),
    (
        "农产品",
        "agricultural products",
        "agriculture",
        ("agricultural products", "agricultural product", "farm products"),
    ),
    ("水产", "aquatic products", "agriculture", ("aquatic products", "seafood", "fisheries")),
    ("畜牧", "animal husbandry", "agriculture", ("animal husbandry", "livestock")),
    ("养殖", "breeding", "agriculture", ("breeding", "farming", "aquaculture")),
    ("种业", "seeds", "agriculture", ("seeds", "seed")),
    ("饲料", "feed", "agriculture", ("feed", "feeds")),
    ("林业", "forestry", "agriculture", ("forestry",)),
    ("园林", "landscape", "construction", ("landscape", "landscaping", "garden", "gardens")),
    ("绿化", "landscaping", "construction", ("landscaping", "greening")),
    ("花卉", "flowers", "agriculture", ("flowers", "flower", "horticulture")),
    ("酒店管理", "hotel management", "services", ("hotel management",)),
    ("酒店", "hotel", "services", ("hotel", "hotels")),
    ("药业", "pharmaceutical", "medical", ("pharmaceutical", "pharmaceuticals", "pharma", "pharmacy")),
    ("生物技术", "biotechnology", "medical", ("biotechnology", "biotech", "bio tech", "bio technology")),
    ("生物", "biology", "medical", ("bio", "biological", "biology", "biosciences")),
    ("医学", "medical", "medical", ("medical", "medicine")),
    ("医院管理", "hospital management", "medical", ("hospital management",)),
    ("口腔", "dental", "medical", ("dental", "stomatology")),
    ("养老", "elderly care", "medical", ("elderly care", "senior care", "aged care")),
    ("康复", "rehabilitation", "medical", ("rehabilitation", "rehab")),
    ("化妆品", "cosmetics", "medical", ("cosmetics", "cosmetic")),
    ("美容", "beauty", "services", ("beauty",)),
    ("家政", "housekeeping", "services", ("housekeeping", "domestic services", "home services")),
    ("保洁", "cleaning", "services", ("cleaning", "cleaning services")),
    ("保安", "security services", "services", ("security services", "security service", "guard")),
    ("劳务", "labour services", "services", ("labour services", "labor services", "labour", "labor")),
    ("会展", "exhibition", "services", ("exhibition", "exhibitions", "convention and exhibition")),
    ("展览", "exhibition", "services", ("exhibition", "exhibitions", "exhibition services")),
    (
        "建筑设计",
        "architectural design",
        "construction",
        ("architectural design", "architecture design", "architecture"),
    ),
    ("设计", "design", "services", ("design",)),
    ("检测", "testing", "services", ("testing", "inspection", "testing and inspection")),
    ("检验检测", "inspection and testing", "services", ("inspection and testing", "testing and inspection")),
    ("认证", "certification", "services", ("certification",)),
    ("测绘", "surveying", "services", ("surveying", "surveying and mapping")),
    ("租赁", "leasing", "services", ("leasing", "rental", "rentals")),
    ("融资租赁", "financial leasing", "finance", ("financial leasing", "finance leasing", "finance lease")),
    ("担保", "guarantee", "finance", ("guarantee", "guaranty")),
    ("资产管理", "asset management", "finance", ("asset management",)),
    ("基金", "fund", "finance", ("fund", "funds", "fund management")),
    ("保险", "insurance", "finance", ("insurance",)),
    ("商务咨询", "business consulting", "consulting", ("business consulting", "business consultancy")),
    ("信息咨询", "information consulting", "consulting", ("information consulting", "information consultancy")),
    ("财务咨询", "financial consulting", "consulting", ("financial consulting", "financial consultancy")),
    ("营销策划", "marketing", "media", ("marketing", "marketing planning")),
    ("策划", "planning", "media", ("planning",)),
    (
        "文化传播",
        "culture communication",
        "media",
        ("culture communication", "cultural communication", "communication"),
    ),
    ("文化发展", "culture development", "media", ("culture development", "cultural development")),
    ("文化艺术", "culture and art", "media", ("culture and art", "culture and arts", "arts")),
    ("文化科技", "culture technology", "media", ("culture technology", "cultural technology")),
    ("影视", "film and television", "media", ("film and television", "film and tv", "film", "films", "pictures")),
    ("体育", "sports", "services", ("sports", "sport")),
    ("健身", "fitness", "services", ("fitness",)),
    ("出版", "publishing", "media", ("publishing",)),
    ("快递", "express", "logistics", ("express", "courier")),
    ("速运", "express", "logistics", ("express",)),
    ("仓储", "warehousing", "logistics", ("warehousing", "warehouse", "storage")),
    ("冷链", "cold chain", "logistics", ("cold chain",)),
    ("货运", "freight", "logistics", ("freight", "cargo")),
    ("航运", "shipping", "logistics", ("shipping",)),
    ("船务", "shipping", "logistics", ("shipping", "shipping agency")),
    (
        "国际货运代理",
        "freight forwarding",
        "logistics",
        ("international freight forwarding", "international freight forwarder", "international forwarding"),
    ),
    ("报关", "customs brokerage", "logistics", ("customs brokerage", "customs broker", "customs clearance")),
    ("工贸", "industry and trade", "trade", ("industry and trade", "industrial and trading", "industrial and trade")),
    ("经贸", "economic and trade", "trade", ("economic and trade", "economy and trade")),
    ("外贸", "foreign trade", "trade", ("foreign trade",)),
    ("商务", "business", "trade", ("business",)),
    ("百货", "department store", "trade", ("department store", "general merchandise")),
    ("超市", "supermarket", "trade", ("supermarket", "supermarkets")),
    ("零售", "retail", "trade", ("retail",)),
    ("批发", "wholesale", "trade", ("wholesale",)),
    ("礼品", "gifts", "trade", ("gifts", "gift")),
    ("工艺品", "crafts", "trade", ("crafts", "handicrafts", "arts and crafts")),
    ("文具", "stationery", "trade", ("stationery",)),
    ("办公用品", "office supplies", "trade", ("office supplies",)),
    ("日用品", "daily necessities", "trade", ("daily necessities", "daily use products")),
    ("玩具", "toys", "trade", ("toys", "toy")),
    ("珠宝", "jewellery", "trade", ("jewellery", "jewelry")),
    ("眼镜", "eyewear", "trade", ("eyewear", "optical", "glasses")),
    ("建筑", "construction", "construction", ("construction", "building")),
    ("装修", "decoration", "construction", ("decoration", "renovation")),
    ("市政工程", "municipal engineering", "construction", ("municipal engineering", "municipal works")),
    ("路桥", "road and bridge", "construction", ("road and bridge", "roads and bridges")),
    ("水利", "water conservancy", "construction", ("water conservancy", "hydraulic engineering")),
    ("安装", "installation", "construction", ("installation",)),
    (
        "消防",
        "fire protection",
        "construction",
        ("fire protection", "fire safety", "fire fighting", "fire engineering"),
    ),
    ("置业", "property", "real estate", ("property", "properties", "real estate")),
    ("地产", "real estate", "real estate", ("real estate", "property", "realty")),
    ("房产", "real estate", "real estate", ("real estate", "property")),
    ("物业", "property management", "real estate", ("property management", "property services")),
    ("环境", "environment", "environment", ("environment", "environmental")),
    ("水处理", "water treatment", "environment", ("water treatment",)),
    ("节能", "energy saving", "energy", ("energy saving", "energy conservation")),
    ("净化", "purification", "environment", ("purification",)),
    ("燃气", "gas", "energy", ("gas",)),
    ("石油", "petroleum", "energy", ("petroleum", "oil")),
    ("石化", "petrochemical", "energy", ("petrochemical", "petrochemicals")),
    ("天然气", "natural gas", "energy", ("natural gas",)),
    ("煤炭", "coal", "energy", ("coal",)),
    ("热力", "heating", "energy", ("heating", "thermal", "thermal power")),
    ("职业培训", "vocational training", "education", ("vocational training",)),
    ("汽车销售", "car sales", "auto", ("car sales", "auto sales", "automobile sales")),
    ("汽车服务", "auto services", "auto", ("auto services", "automobile services", "auto service")),
    ("汽车零部件", "auto parts", "auto", ("auto parts", "automotive parts", "automobile parts", "auto components")),
    # Words that follow a trade (科技发展, 包装制品, 信息技术服务) or stand for one: the trade is the first of
    # them, `trade_of`.
    ("发展", "development", "general", ("development",)),
    ("制品", "products", "general", ("products", "product")),
    ("产品", "products", "general", ("products", "product")),
    ("用品", "supplies", "general", ("supplies", "supply")),
    ("器材", "equipment", "machinery", ("equipment",)),
    ("服务", "services", "general", ("services", "service")),
    ("管理", "management", "general", ("management",)),
    ("系统", "systems", "tech", ("systems", "system")),
    ("工业", "industry", "general", ("industry", "industries", "industrial")),
    ("产业", "industry", "general", ("industry", "industries")),
    ("国际", "international", "general", ("international", "intl")),
]

_LEGAL_EN = [
    "company limited",
    "co limited",
    "co ltd",
    "limited company",
    "limited",
    "ltd",
    "incorporated",
    "inc",
    "corporation",
    "corp",
    "company",
    "co",
    "llc",
    "plc",
    "gmbh",
    "pte",
    "group",
    "holdings",
    "holding",
    "youxian gongsi",
    "gufen youxian gongsi",
    "youxian zeren gongsi",
    "gongsi",
    "jituan",
    "youxian",
]
_BRANCH_WORDS = [
    ("representative", "office"),
    ("rep", "office"),
    ("branch", "office"),
    ("branch", "company"),
    ("branch",),
    ("office",),
]

# Brand characters and the English words calques use for them (星云 -> StarCloud, 金桥 -> Golden Bridge).
GLOSSARY: dict[str, tuple[str, ...]] = {
    "星": ("star",),
    "云": ("cloud",),
    "天": ("sky", "heaven"),
    "海": ("sea", "ocean"),
    "金": ("gold", "golden"),
    "银": ("silver",),
    "华": ("sino", "hua"),
    "中": ("sino", "china"),
    "东": ("east", "orient"),
    "东方": ("orient", "oriental", "east"),
    "西": ("west",),
    "南": ("south",),
    "北": ("north",),
    "光": ("light", "bright"),
    "明": ("bright", "ming"),
    "龙": ("dragon", "loong"),
    "凤": ("phoenix",),
    "山": ("mountain", "hill"),
    "石": ("stone", "rock"),
    "日": ("sun",),
    "阳": ("sun", "sunny"),
    "月": ("moon",),
    "新": ("new", "neo"),
    "创": ("innovation", "create"),
    "智": ("smart", "wisdom", "intelli"),
    "信": ("trust", "faith"),
    "联": ("union", "link"),
    "通": ("link", "tong"),
    "博": ("broad", "bo"),
    "宏": ("grand", "macro"),
    "盛": ("prosper", "sheng"),
    "恒": ("ever", "eternal"),
    "永": ("ever", "forever"),
    "远": ("far", "yuan"),
    "航": ("voyage", "navi"),
    "桥": ("bridge",),
    "泰": ("tai", "peace"),
    "德": ("virtue", "de"),
    "帆": ("sail",),
    "瑞": ("rui", "auspicious"),
    "丰": ("rich", "abundant"),
    "禾": ("grain",),
    "汇": ("hui", "converge"),
    "锐": ("sharp", "rui"),
    "思": ("think", "si"),
    "启": ("kai", "open"),
    "卓越": ("excellence", "excel"),
    "远航": ("voyage",),
    "蓝": ("blue",),
    "绿": ("green",),
    "红": ("red",),
    "白": ("white",),
    "黑": ("black",),
    "飞": ("fly", "flying"),
    "鹰": ("eagle",),
    "虎": ("tiger",),
    "狮": ("lion",),
    "马": ("horse",),
    "鹏": ("roc", "peng"),
    "宇": ("universe", "cosmos"),
    "宙": ("cosmos",),
    "风": ("wind",),
    "雷": ("thunder",),
    "电": ("electric",),
    "火": ("fire",),
    "水": ("water",),
    "木": ("wood",),
    "森": ("forest",),
    "林": ("forest", "wood"),
    "花": ("flower",),
    "春": ("spring",),
    "晨": ("morning", "dawn"),
    "曦": ("dawn",),
    "彩虹": ("rainbow",),
    "未来": ("future",),
    "世纪": ("century",),
    "环球": ("global", "globe"),
    "全球": ("global",),
    "国际": ("international",),
    "万": ("wan", "myriad"),
    "大": ("great", "grand"),
    "美": ("beauty", "mei"),
    "安": ("safe", "an"),
    "康": ("health", "kang"),
    "乐": ("joy", "happy"),
    "福": ("fortune", "blessing"),
    "富": ("rich", "wealth"),
    "和": ("harmony", "peace"),
    "合": ("union", "he"),
    "力": ("power", "force"),
    "强": ("strong",),
    "优": ("excellent", "superior"),
    "精": ("precision", "fine"),
    "源": ("source", "origin"),
    "泉": ("spring",),
    "峰": ("peak", "summit"),
    "谷": ("valley",),
    "城": ("city",),
    "港": ("port", "harbour", "harbor"),
    "湾": ("bay",),
    "岛": ("island",),
    "江": ("river",),
    "河": ("river",),
    "湖": ("lake",),
    "辰": ("chen", "star"),
    "宝": ("treasure", "bao"),
    "玉": ("jade",),
    "晶": ("crystal",),
    "钻": ("diamond",),
    "鼎": ("ding", "tripod"),
    "达": ("da", "reach"),
    "顺": ("smooth", "shun"),
    "兴": ("prosper", "xing"),
    "嘉": ("jia", "fine"),
    "泽": ("ze", "marsh"),
    "鸿": ("hong", "swan"),
    "运": ("fortune", "yun"),
    "世": ("world", "shi"),
    "联创": ("unicreate", "union innovation"),
    "启明": ("venus", "morning star"),
    "中科": ("sinosci",),
    "天泽": ("tianze",),
    "金桥": ("golden bridge", "goldbridge"),
    "蓝天": ("blue sky",),
    "长城": ("great wall",),
    "长江": ("yangtze",),
    "黄河": ("yellow river",),
    "太平洋": ("pacific",),
    "朝阳": ("sunrise",),
}

# Readings that character-by-character pinyin gets wrong in names (长城 is chang, 厦门 is xia).
_READINGS = {
    "长": "chang",
    "厦": "xia",
    "重": "chong",
    "行": "xing",
    "朝": "chao",
    "乐": "le",
    "曾": "zeng",
    "单": "shan",
    "藏": "zang",
    "调": "diao",
    "系": "xi",
    "茜": "qian",
    "蔚": "wei",
    "柏": "bai",
}
# English names of places that pinyin does not give.
_EXONYMS = {
    "hong kong": "香港",
    "hongkong": "香港",
    "macau": "澳门",
    "macao": "澳门",
    "tibet": "西藏",
    "inner mongolia": "内蒙古",
    "peking": "北京",
    "canton": "广州",
    "amoy": "厦门",
    "xian": "西安",
    "taipei": "台北",
    "taiwan": "台湾",
}


@dataclass(frozen=True)
class Trade:
    chinese: str
    code: str
    family: str


TRADES: dict[str, Trade] = {zh: Trade(zh, code, family) for zh, code, family, _ in _TRADE_TABLE}


def _suffixes_longest_first() -> list[str]:
    return sorted(TRADES, key=len, reverse=True)


# Any one trade word, longest first (a regular expression's alternation takes the first that fits): what the
# patterns below, and the cleaner's fast path, are made of.
TRADE_WORD = "(?:" + "|".join(_suffixes_longest_first()) + ")"
_TRADE_SUFFIX = re.compile(TRADE_WORD + "$")
# Trade words in a row at the end (科技发展, 包装制品, 建筑装饰工程), where a brand of two characters at least stays
# before them (a registered brand, 字号, has two or more).
_TRADE_CHAIN = re.compile(TRADE_WORD + "+$")
_TRADE_HEAD = re.compile(TRADE_WORD)
MIN_BRAND = 2
GENERAL = "general"  # the family of words that follow a trade (发展, 制品, 服务)


def trade_of(key: str) -> tuple[str, str] | None:
    """The trade words a Chinese name key ends with and the trade's code, the first word's: 星辰信息技术 ->
    (信息技术, information technology), 星辰包装制品 -> (包装制品, packaging). The longest trade word after at
    least one character, or trade words in a row after two where they are longer; None when the key is only
    trade words."""
    one = _TRADE_SUFFIX.search(key, 1)
    chain = _TRADE_CHAIN.search(key, MIN_BRAND)
    if chain is not None and (one is None or chain.start() < one.start()):
        one = chain
    if one is None or _TRADE_CHAIN.fullmatch(key):
        return None
    return one.group(), TRADES[first_trade_word(one.group())].code


@lru_cache(maxsize=65536)
def first_trade_word(words: str) -> str:
    """The first of trade words in a row (包装制品 -> 包装): the longest word it starts with."""
    return _TRADE_HEAD.match(words).group()  # type: ignore[union-attr]


def trade_suffixes() -> list[str]:
    """Trade words, longest first (for vectorised matching)."""
    return _suffixes_longest_first()


@lru_cache(maxsize=262144)
def trade_in(code: str | None, chinese: str) -> bool:
    """Whether a Chinese text holds a trade word of ``code`` (energy: 能源 in 睿星能源)."""
    return bool(code) and any(zh in chinese for zh in _words_of(code))


@lru_cache(maxsize=512)
def _words_of(code: str) -> tuple[str, ...]:
    return tuple(zh for zh, t in TRADES.items() if t.code == code)


def family_of(code: str | None) -> str | None:
    if code is None:
        return None
    family = _FAMILY_BY_CODE.get(code, code)
    return None if family == GENERAL else family  # 服务, 发展: they say nothing of the trade


_FAMILY_BY_CODE = {t.code: t.family for t in TRADES.values()}


@lru_cache(maxsize=65536)
def syllable(char: str) -> str:
    """Toneless pinyin of one character, with the readings names use; other characters as they are."""
    if char in _READINGS:
        return _READINGS[char]
    if not ("\u3400" <= char <= "\u9fff"):
        return char.lower()
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char)[0]


def romanise(text: str) -> str:
    """Toneless pinyin of Chinese text without spaces, ü folded to u as English writes it: 星辰 -> xingchen,
    吕 -> lu."""
    joined = "".join(syllable(c) for c in text)
    if "l" in joined or "n" in joined or not joined.isalnum() or not joined.islower():
        return fold_latin(joined)
    return joined


def fold_latin(text: str) -> str:
    """Spellings of one pinyin written differently in English made one: ü / v / yu after l and n -> u,
    apostrophes, hyphens and spaces out (Xi'an -> xian, Lyu / Lü -> lu)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[\s'’\-_.]+", "", text)
    return _U_AFTER_LN.sub(r"\1u", text)


_U_AFTER_LN = re.compile(r"([ln])(?:ü|v|yu)")


def romanise_series(texts):
    """`romanise` over a polars Series of Chinese text, one pypinyin look-up per distinct character."""
    import polars as pl

    chars = texts.drop_nulls().str.split("").explode().unique().drop_nulls().to_list()
    reading = {c: syllable(c) for c in chars if c}
    joined = (
        texts.str.split("")
        .list.eval(pl.element().replace_strict(reading, default="", return_dtype=pl.String))
        .list.join("")
    )
    folded = joined.str.to_lowercase().str.replace_all(r"[\s'’\-_.]+", "")
    return folded.str.replace_all(_U_AFTER_LN.pattern, "${1}u")


@lru_cache(maxsize=1)
def _english_trades() -> list[tuple[tuple[str, ...], str]]:
    """English (and pinyin) trade phrases as token tuples, longest first, with their codes."""
    out: dict[tuple[str, ...], str] = {}
    for zh, code, _, forms in _TRADE_TABLE:
        for form in (*forms, code):
            out.setdefault(tuple(form.replace("-", " ").split()), code)
        out.setdefault(tuple(romanise(zh[i : i + 2]) for i in range(0, len(zh), 2)), code)  # keji, xinxi jishu
        out.setdefault((romanise(zh),), code)
    return sorted(out.items(), key=lambda item: -len(item[0]))


@lru_cache(maxsize=1)
def _trade_lookup() -> tuple[dict[tuple[str, ...], str], int]:
    """English trade phrases as token tuples -> code (the first, longest-first, wins), and the longest."""
    out: dict[tuple[str, ...], str] = {}
    for phrase, code in _english_trades():
        out.setdefault(phrase, code)
    return out, max((len(p) for p in out), default=0)


@lru_cache(maxsize=1)
def _regions_latin() -> dict[str, tuple[str, str | None]]:
    """Pinyin (and English) of every province and prefecture, full or short -> (latin, the division's name,
    or None where two divisions read alike: 苏州 and 宿州 are both Suzhou)."""
    from crm_migrate.cleaners.divisions import divisions

    d = divisions()
    found: dict[str, set[str]] = {}
    for level in (1, 2):
        for alias, units in d.names[level].items():
            if len(units) != 1 or len(alias) < 2:
                continue
            from pypinyin import lazy_pinyin

            latin = fold_latin("".join(lazy_pinyin(alias)))
            found.setdefault(latin, set()).add(units[0].name)
    for english, chinese in _EXONYMS.items():
        unit = d.is_region(chinese)
        if unit is not None:
            found.setdefault(english.replace(" ", ""), set()).add(unit.name)
    return {latin: (latin, next(iter(names)) if len(names) == 1 else None) for latin, names in found.items()}


def division_of_latin(latin: str) -> str | None:
    """The province or prefecture a pinyin (or English) place name reads as (nanjing -> 南京市), or None where
    none or two do."""
    return _regions_latin().get(latin, (None, None))[1]


def region_latin(name: str | None) -> str | None:
    """The pinyin of a division's short name as English writes it: 北京市 -> beijing, 广东省 -> guangdong."""
    if not name:
        return None
    from crm_migrate.cleaners.divisions import CITY_SUFFIXES, PROVINCE_SUFFIXES, short_name

    short = short_name(name, PROVINCE_SUFFIXES) or short_name(name, CITY_SUFFIXES) or name
    from pypinyin import lazy_pinyin

    return fold_latin("".join(lazy_pinyin(short)))


def _region_at(tokens: list[str], start: int) -> tuple[int, tuple[str, str | None]] | None:
    """A region written at ``tokens[start:]``, one or two tokens long: (tokens used, (latin, division))."""
    regions = _regions_latin()
    for n in (2, 1):
        if start + n <= len(tokens):
            joined = "".join(tokens[start : start + n])
            if joined in regions and not (n == 1 and joined in _NOT_REGIONS):
                return n, regions[joined]
    return None


_NOT_REGIONS = {"china", "sino"}


# Every toneless pinyin syllable of Mandarin (ü written v), without the interjections m, n and hm: a fixed list,
# so that reading a word as pinyin does not first need pypinyin's dictionary loaded.
PINYIN_SYLLABLES = frozenset(
    (
        "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai can cang cao ce "
        "cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan chuang chui chun "
        "chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de den deng di dian diao die ding diu dong dou "
        "du duan dui dun duo e ei en eng er fa fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei "
        "gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao he hei hen heng hong hou hu hua "
        "huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun ka kai kan "
        "kang kao ke ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai lan lang lao le lei leng li lia "
        "lian liang liao lie lin ling liu lo long lou lu luan lue lun luo lv lve ma mai man mang mao me mei men "
        "meng mi mian miao mie min ming miu mo mou mu na nai nan nang nao ne nei nen neng ni nian niang niao nie "
        "nin ning niu nong nou nu nuan nue nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie "
        "pin ping po pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren "
        "reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan shang shao she "
        "shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si song sou su suan sui sun suo ta tai "
        "tan tang tao te teng ti tian tiao tie ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo "
        "wu xi xia xian xiang xiao xie xin xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong "
        "you yu yuan yue yun za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhen zheng zhi "
        "zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo "
    ).split()
)


@lru_cache(maxsize=131072)
def is_pinyin(token: str) -> bool:
    """Whether a word can be read as pinyin syllables run together (hengrun, xingchen; not blue or brd)."""
    syllables = PINYIN_SYLLABLES
    token = fold_latin(token)
    reachable = [True] + [False] * len(token)
    for i in range(len(token)):
        if reachable[i]:
            for n in range(1, min(7, len(token) - i + 1)):
                if token[i : i + n] in syllables:
                    reachable[i + n] = True
    return len(token) >= 2 and reachable[len(token)]


@dataclass(frozen=True)
class EnglishName:
    brand: str  # the brand's letters, no spaces: xingchen, starcloud
    trade: str | None  # the trade's code: technology
    region: str | None  # the division, when the pinyin names one
    region_latin: str | None  # the region as written, folded: beijing
    branch: str | None  # "shanghai branch"
    head: str | None = None  # the pinyin the brand starts with (Hengrun Precision Mould -> hengrun)


def english_name(text: str) -> EnglishName:
    """An English or pinyin company name taken apart: legal forms dropped, a region at the start, in brackets or
    before the legal form recognised, the trade at the end read from `TRADES`, a branch at the end kept."""
    text = unicodedata.normalize("NFKC", text).lower().replace("&", " and ")
    region: tuple[str, str | None] | None = None
    for inner in re.findall(r"\(([^()]*)\)", text):
        found = _region_at(inner.split(), 0)
        if found and found[0] == len(inner.split()):
            region = region or found[1]
    text = re.sub(r"\([^()]*\)", " ", text)
    tokens = [t for t in re.split(r"[^a-z0-9']+", text.replace("'", "")) if t]
    tokens, branch = _branch(tokens)
    tokens = _strip_legal(tokens)
    if tokens and (found := _region_at(tokens, 0)) and len(tokens) > found[0]:
        region = region or found[1]
        tokens = tokens[found[0] :]
    tokens = _strip_legal(tokens)
    if len(tokens) > 1 and (found := _region_at(tokens, len(tokens) - 1)):
        region = region or found[1]
        tokens = tokens[:-1]
    trade = None
    phrases, longest = _trade_lookup()
    stripped = True
    # Trade words in a row, as the Chinese name's are rendered word by word (Technology Development, Hardware
    # Tools, Intelligent Equipment): the trade is the first.
    while stripped:
        stripped = False
        for n in range(min(longest, len(tokens) - 1), 0, -1):
            if (code := phrases.get(tuple(tokens[-n:]))) is not None:
                trade, tokens, stripped = code, tokens[:-n], True
                break
    if trade is None and len(tokens) > 2:
        for n in range(min(longest, len(tokens) - 2), 0, -1):  # a trade before a qualifier: "xingchen tech intl"
            if (code := phrases.get(tuple(tokens[-n - 1 : -1]))) is not None:
                trade, tokens = code, tokens[: -n - 1]
                break
    brand = fold_latin("".join(tokens))
    head = []
    for token in tokens:
        if not is_pinyin(token):
            break
        head.append(fold_latin(token))
    return EnglishName(
        brand, trade, region[1] if region else None, region[0] if region else None, branch, "".join(head) or None
    )


def _branch(tokens: list[str]) -> tuple[list[str], str | None]:
    """A branch written at the end (... Co., Ltd. Shanghai Branch): the tokens before it, and the branch as
    "<place> branch" (the place folded as pinyin, or none)."""
    for words in _BRANCH_WORDS:
        n = len(words)
        if len(tokens) > n + 1 and tuple(tokens[-n:]) == words:
            rest = tokens[:-n]
            found = _region_at(rest, len(rest) - 1) or (_region_at(rest, len(rest) - 2) if len(rest) > 2 else None)
            if found:
                return rest[: -found[0]], f"{found[1][0]} branch"
            return rest, "branch"
    return tokens, None


@lru_cache(maxsize=1)
def _legal_tokens() -> list[tuple[str, ...]]:
    return sorted((tuple(f.split()) for f in _LEGAL_EN), key=len, reverse=True)


def _strip_legal(tokens: list[str]) -> list[str]:
    legal = _legal_tokens()
    changed = True
    while changed and tokens:
        changed = False
        for form in legal:
            n = len(form)
            if len(tokens) > n and tuple(tokens[-n:]) == form:
                tokens, changed = tokens[:-n], True
                break
    return tokens


def _options(brand: str, i: int) -> list[tuple[int, tuple[str, ...]]]:
    """At position ``i`` of a brand: (characters used, the English words or pinyin they may be written as)."""
    out = []
    pair = brand[i : i + 2]
    if len(pair) == 2 and pair in GLOSSARY:
        out.append((2, _words(pair)))
    out.append((1, _char_words(brand[i])))
    return out


@lru_cache(maxsize=4096)
def _words(entry: str) -> tuple[str, ...]:
    return tuple(w.replace(" ", "") for w in GLOSSARY[entry])


@lru_cache(maxsize=65536)
def _char_words(char: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((_words(char) if char in GLOSSARY else ()) + (romanise(char),)))


def initials(chinese: str) -> str:
    """The first letters of a Chinese text's pinyin, as abbreviations write them: 博锐达 -> brd."""
    return "".join(syllable(c)[:1] for c in chinese if "\u3400" <= c <= "\u9fff")


@lru_cache(maxsize=65536)
def calques(brand: str, limit: int = 16) -> tuple[str, ...]:
    """English forms a translated Chinese brand may take, each character translated (`GLOSSARY`) or left in
    pinyin, joined without spaces: 星云 -> starcloud, ...; 世星方 -> worldstarfang. Only brands with at least
    one character the glossary translates; at most ``limit``, translations first."""
    if not any(ch in GLOSSARY for ch in brand):
        return ()
    options = [""]  # each a form so far, the words joined
    i = 0
    while i < len(brand):
        pair = brand[i : i + 2]
        if len(pair) == 2 and pair in GLOSSARY:  # a two-character entry first, as `_options` gives it
            words, i = _words(pair), i + 2
        else:
            words, i = _char_words(brand[i]), i + 1
        options = [o + w for o in options for w in words][: limit * 4]
    plain = romanise(brand)
    return tuple([f for f in dict.fromkeys(options) if f != plain][:limit])


@lru_cache(maxsize=131072)
def calque_of(latin: str, brand: str) -> bool:
    """Whether ``latin`` (folded, no spaces) is ``brand`` written character by character in English words or
    pinyin, in any mixture: worldstarfang is 世星方."""

    def walk(text: str, i: int) -> bool:
        if i == len(brand):
            return not text
        return any(
            text.startswith(w) and walk(text[len(w) :], i + used)
            for used, words in _options(brand, i)
            for w in words
            if w
        )

    return bool(latin) and bool(brand) and walk(latin, 0)
